from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import ProtectedError, Q
from django.templatetags.static import static
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import Truncator

from .base import NaturalKeyManager, max_length_checks


def image_upload_to(image, filename):
    """Originals are named by their content hash, never by the uploader's file name."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "img"
    return f"images/{image.sha256[:2]}/{image.sha256}.{extension}"


class Image(models.Model):
    """A photo in the library: described once (alt text, caption, credit), used on many articles."""

    class RenditionsStatus(models.TextChoices):
        PENDING = "pending", "Waiting for the worker"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed (retried)"

    natural_key_lookups = ["sha256"]

    file = models.FileField(
        upload_to=image_upload_to,
        max_length=255,
        help_text="JPEG, PNG, WebP or GIF, up to 25 MB and 50 megapixels. Location and camera data are removed.",
    )
    alt_text = models.CharField(
        "alt text",
        max_length=300,
        help_text="What the photo shows, for readers who cannot see it. Required. E.g. “Soldiers unload a "
        "helicopter at Bamako airport”.",
    )
    caption = models.TextField(blank=True, help_text="Shown under the photo. An article can replace it.")
    credit = models.CharField(max_length=255, blank=True, help_text="E.g. “Reuters/Moussa Sissoko”.")
    width = models.PositiveIntegerField(editable=False)
    height = models.PositiveIntegerField(editable=False)
    file_size = models.PositiveIntegerField(
        "file size",
        null=True,
        editable=False,
        help_text="In bytes, recorded on upload so that feeds can give it without asking the storage.",
    )
    focal_x = models.FloatField(
        "focal point (across)",
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="0 is the left edge, 1 the right. Crops (e.g. social cards) keep this point in view.",
    )
    focal_y = models.FloatField(
        "focal point (down)",
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="0 is the top edge, 1 the bottom. Leave both empty for the centre.",
    )
    sha256 = models.CharField(
        "content hash", max_length=64, unique=True, editable=False, help_text="SHA-256 of the stored file."
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        editable=False,
        related_name="uploaded_images",
    )
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)
    renditions_status = models.CharField(
        "renditions",
        max_length=10,
        choices=RenditionsStatus,
        default=RenditionsStatus.PENDING,
        editable=False,
        help_text="The resized copies readers get are made by the worker after the upload (docs/photos.md).",
    )
    renditions_error = models.TextField(
        "renditions error", blank=True, editable=False, help_text="What went wrong the last time they were made."
    )
    renditions_attempts = models.PositiveSmallIntegerField(
        default=0, editable=False, help_text="Failed attempts in a row; a success resets it."
    )

    objects = NaturalKeyManager()

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(width__gt=0, height__gt=0), name="image_has_dimensions"),
            models.CheckConstraint(
                condition=(Q(focal_x__isnull=True) | Q(focal_x__gte=0, focal_x__lte=1))
                & (Q(focal_y__isnull=True) | Q(focal_y__gte=0, focal_y__lte=1)),
                name="image_focal_point_inside",
            ),
            models.CheckConstraint(
                condition=Q(renditions_status__in=["pending", "ready", "failed"]), name="image_renditions_status_valid"
            ),
            *max_length_checks("image", alt_text=300, credit=255, sha256=64, renditions_status=10),
        ]

    def __str__(self):
        return Truncator(self.alt_text).chars(80)

    def delete(self, *args, **kwargs):
        # Django's ProtectedError only names the field; editors need the articles.
        used_by = list(self.articles.order_by("headline"))
        if used_by:
            raise ProtectedError(
                f"The image “{self}” is the lead image of {len(used_by)} article(s): "
                + ", ".join(f"“{article}”" for article in used_by)
                + ". Choose another lead image for them first.",
                set(used_by),
            )
        shown_in = self.bodies_showing_it()
        if shown_in:
            raise ProtectedError(
                f"The image “{self}” is in the text of {len(shown_in)} article(s) or live update(s): "
                + ", ".join(f"“{row}”" for row in shown_in)
                + ". Take it out of them first.",
                set(shown_in),
            )
        return super().delete(*args, **kwargs)

    def bodies_showing_it(self):
        """The articles and live updates whose text shows this image (a body figure names it by id)."""
        from .articles import Article
        from .live import LiveUpdate

        reference = f'data-image-id="{self.pk}"'
        return [
            *Article.objects.filter(body__contains=reference).order_by("headline"),
            *LiveUpdate.objects.filter(body__contains=reference).select_related("article"),
        ]

    def natural_key(self):
        return (self.sha256,)

    @property
    def focal_point(self):
        """(x, y) between 0 and 1; the centre when none is set."""
        return (
            0.5 if self.focal_x is None else self.focal_x,
            0.5 if self.focal_y is None else self.focal_y,
        )

    @cached_property
    def picture(self):
        """
        Everything a <picture> needs (includes/picture.html), from the rendition
        rows alone (prefetched by with_listing_data()): no storage access, no
        decoding. While the worker makes them, the renditions made so far serve;
        before the first, a small placeholder of the photo's shape (never the
        original, which may weigh megabytes).
        """
        return self._picture(default_width=960)

    @cached_property
    def thumbnail_picture(self):
        """The same for list thumbnails: candidates up to 640 pixels wide."""
        return self._picture(default_width=320, max_width=640)

    def _picture(self, *, default_width, max_width=None):
        ladder = [
            rendition
            for rendition in self.renditions.all()
            if rendition.kind == Rendition.Kind.WIDTH and (max_width is None or rendition.width <= max_width)
        ]
        by_format = {}
        for rendition in sorted(ladder, key=lambda rendition: rendition.width):
            by_format.setdefault(rendition.format, []).append(rendition)
        # JPEG for every browser; WebP (which every current browser reads) if the JPEGs are not made yet.
        fallback = by_format.get(Rendition.Format.JPEG) or by_format.get(Rendition.Format.WEBP)
        if not fallback:
            return {
                "sources": [],
                "src": placeholder_url(),
                "srcset": "",
                "width": self.width,
                "height": self.height,
                "placeholder": True,
                "file_size": None,
            }
        default = next((r for r in fallback if r.width >= default_width), fallback[-1])
        return {
            "sources": [
                {"type": f"image/{format}", "srcset": srcset(by_format[format])}
                for format in (Rendition.Format.AVIF, Rendition.Format.WEBP)
                if format in by_format
            ],
            "src": default.url,
            "srcset": srcset(fallback),
            "width": default.width,
            "height": default.height,
            "file_size": default.file_size,
        }

    @property
    def thumbnail_url(self):
        """The smallest rendition, JPEG first (the placeholder until one is made), for the admin."""
        ladder = [rendition for rendition in self.renditions.all() if rendition.kind == Rendition.Kind.WIDTH]
        if not ladder:
            return placeholder_url()
        return min(ladder, key=lambda rendition: (rendition.format != Rendition.Format.JPEG, rendition.width)).url

    @property
    def social_rendition(self):
        return next((r for r in self.renditions.all() if r.kind == Rendition.Kind.SOCIAL), None)

    @property
    def crop_renditions(self):
        """The 16:9, 4:3 and 1:1 crops around the focal point, in that order (Google's for structured data)."""
        crops = {r.kind: r for r in self.renditions.all() if r.kind in Rendition.STRUCTURED_DATA_CROPS}
        return [crops[kind] for kind in Rendition.STRUCTURED_DATA_CROPS if kind in crops]


def placeholder_url():
    """Shown where a photo goes until its first rendition is made: a grey box that takes any shape."""
    return static("img/photo-pending.svg")


def srcset(renditions):
    return ", ".join(f"{rendition.url} {rendition.width}w" for rendition in renditions)


class Rendition(models.Model):
    """
    A resized copy of an image, generated once (articles/images.py) and
    recorded here so that pages are rendered from rows, never from files.
    """

    class Kind(models.TextChoices):
        WIDTH = "width", "Responsive width"
        SOCIAL = "social", "Social card (1200×630)"
        WIDE = "16x9", "16:9 crop (1200×675)"
        STANDARD = "4x3", "4:3 crop (1200×900)"
        SQUARE = "1x1", "1:1 crop (1200×1200)"

    class Format(models.TextChoices):
        AVIF = "avif", "AVIF"
        WEBP = "webp", "WebP"
        JPEG = "jpeg", "JPEG"

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="renditions")
    spec = models.CharField(max_length=40, help_text="What was asked for, e.g. “w640.webp” or “social.jpeg”.")
    kind = models.CharField(max_length=10, choices=Kind)
    format = models.CharField(max_length=10, choices=Format)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    file = models.FileField(max_length=255)
    file_size = models.PositiveIntegerField(
        "file size", null=True, help_text="In bytes, recorded when the file is written (for feeds)."
    )
    signature = models.CharField(
        max_length=16, help_text="A digest of the source and the settings it was made with; stale when it differs."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    STRUCTURED_DATA_CROPS = (Kind.WIDE, Kind.STANDARD, Kind.SQUARE)

    class Meta:
        ordering = ["image", "kind", "format", "width"]
        constraints = [
            models.UniqueConstraint(fields=["image", "spec"], name="rendition_unique_spec"),
            *max_length_checks("rendition", spec=40, kind=10, format=10, signature=16),
        ]

    def __str__(self):
        return f"{self.spec} ({self.width}×{self.height}) of “{self.image}”"

    @property
    def url(self):
        # Storage.url() builds a URL from the name: no file-system or network access.
        return self.file.url
