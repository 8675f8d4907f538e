import hashlib
import json

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.html import format_html

from articles.images import make_renditions
from articles.models import Article, Image

FIXTURE = "demo_images"
IMAGES_DIR = settings.BASE_DIR / "fixtures" / "images"

# Which demo article gets which photo (by the file's name in fixtures/images/).
LEAD_IMAGES = {
    "mali-receives-helicopters-and-weapons-from-russia": "sahel-dunes.jpg",
    "sahel-farmers-face-second-poor-harvest-as-rains-fail": "sahel-dunes.jpg",
    "france-begins-closing-northern-mali-bases": "sahel-dunes.jpg",
    "student-built-satellite-reaches-orbit": "satellite-orbit.jpg",
    "researchers-map-sahel-groundwater-using-satellite-data": "satellite-orbit.jpg",
    "gulf-states-step-up-renewable-energy-investment": "gulf-skyline.jpg",
    "dubai-expo-2020-attempt-to-shield-uae-rights-abuses-says-hrw": "gulf-skyline.jpg",
    "shipping-bottlenecks-keep-pressure-on-global-supply-chains": "container-port.jpg",
    "central-banks-signal-patience-as-inflation-edges-higher": "bar-chart.jpg",
    "forced-repossession-of-leased-assets-to-be-suspended-until-next-year": "bar-chart.jpg",
}
# Galleries in demo bodies: the photos' ids exist only once they are loaded, so the figures
# are put in here, after the article's second paragraph (once: a body with figures is left alone).
BODY_GALLERIES = {
    "gulf-solar-boom-in-pictures": [
        ("gulf-skyline.jpg", "Solar panels in front of the Dubai skyline."),
        ("container-port.jpg", "Panels arrive by sea: most are made in China."),
        ("sahel-dunes.jpg", "The desert sites chosen for the largest plants."),
    ],
}


def gallery_html(images, photos):
    figures = []
    for sha, caption in photos:
        image = images[sha]
        figures.append(
            format_html(
                '<figure data-image-id="{}"><img src="{}" alt="{}" data-image-id="{}">'
                "<figcaption>{}</figcaption></figure>",
                image.pk,
                image.file.url,
                image.alt_text,
                image.pk,
                caption,
            )
        )
    return "".join(figures)


class Command(BaseCommand):
    help = (
        "Put the demo photos (fixtures/images/) into media storage, load fixtures/demo_images.json, set them as "
        "lead images of the demo articles and make their renditions. Idempotent; run after `loaddata demo`."
    )

    def handle(self, *args, **options):
        files = {}
        for path in sorted(IMAGES_DIR.glob("*.jpg")):
            files[hashlib.sha256(path.read_bytes()).hexdigest()] = path
        with open(settings.BASE_DIR / "fixtures" / f"{FIXTURE}.json", encoding="utf-8") as fixture:
            rows = [row["fields"] for row in json.load(fixture)]

        copied = 0
        for row in rows:
            source = files.get(row["sha256"])
            if source is None:
                raise CommandError(
                    f"No file in {IMAGES_DIR} has the SHA-256 {row['sha256']} that {FIXTURE}.json gives for "
                    f"{row['file']}. Update the fixture after regenerating the images."
                )
            if not default_storage.exists(row["file"]):
                stored = default_storage.save(row["file"], ContentFile(source.read_bytes()))
                if stored != row["file"]:
                    raise CommandError(f"Storage saved {row['file']} as {stored}; expected the exact name.")
                copied += 1

        with transaction.atomic():
            call_command("loaddata", FIXTURE, verbosity=0)
            by_file = {path.name: sha for sha, path in files.items()}
            images = Image.objects.in_bulk([row["sha256"] for row in rows], field_name="sha256")
            placed = 0
            for slug, name in LEAD_IMAGES.items():
                placed += Article.objects.filter(slug=slug).update(lead_image=images[by_file[name]])
            for slug, photos in BODY_GALLERIES.items():
                article = Article.objects.filter(slug=slug).first()
                if article is None or "data-image-id" in article.body:
                    continue
                head, sep, rest = article.body.partition("</p>")
                second, sep2, rest = rest.partition("</p>")
                gallery = gallery_html(images, [(by_file[name], caption) for name, caption in photos])
                # Like the lead images above: part of loading the demo, not an edit (no "Updated" date today).
                body = head + sep + second + sep2 + gallery + rest
                Article.objects.filter(pk=article.pk).update(body=body)

        made = sum(
            make_renditions(image, verify_files=True)
            for image in Image.objects.filter(sha256__in=list(images)).prefetch_related("renditions")
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo photos: {len(rows)} in the library ({copied} copied to {settings.MEDIA_ROOT}), "
                f"lead image of {placed} article(s), {made} rendition(s) made."
            )
        )
