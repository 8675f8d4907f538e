from django.core.management.base import BaseCommand

from articles.images import make_renditions
from articles.models import Image


class Command(BaseCommand):
    help = (
        "Make the missing or stale renditions of every photo (or of the ones given), and remove those no "
        "longer wanted. Safe to run at any time and as often as you like: what is up to date is left alone."
    )

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="Only these images (by id).")
        parser.add_argument("--force", action="store_true", help="Make every rendition again.")
        parser.add_argument(
            "--verify-files",
            action="store_true",
            help="Also check that each rendition's file is still in storage, and make it again if not.",
        )

    def handle(self, *args, ids, force, verify_files, **options):
        images = Image.objects.order_by("id").prefetch_related("renditions")
        if ids:
            images = images.filter(pk__in=ids)
        total = images.count()
        made = failed = 0
        for done, image in enumerate(images.iterator(chunk_size=100), start=1):
            try:
                made += make_renditions(image, force=force, verify_files=verify_files)
            except Exception as error:  # one broken file must not stop the rest
                failed += 1
                self.stderr.write(f"\nImage {image.pk} ({image.file.name}): {error}")
            self.progress(done, total)
        if total:
            self.stdout.write("")
        summary = f"{total} image(s) checked, {made} rendition(s) made."
        if failed:
            self.stdout.write(self.style.WARNING(f"{summary} {failed} image(s) failed: see above."))
        else:
            self.stdout.write(self.style.SUCCESS(summary))

    def progress(self, done, total, width=30):
        filled = round(width * done / total)
        self.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", ending="")
        self.stdout.flush()
