"""
Photos: prepare_upload() judges an upload by its content and returns a clean,
metadata-free copy named by its SHA-256; ensure_renditions() makes the missing
or stale renditions of one image as Rendition rows. See docs/photos.md.
"""

import hashlib
import io
import logging
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.template.defaultfilters import filesizeformat
from PIL import Image as PILImage
from PIL import ImageCms, ImageOps, UnidentifiedImageError, features

from .models import Image, Rendition

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
MAX_PIXELS = 50_000_000
# WebP's own limit, so every rendition can be encoded in every format; and no strips that
# would pass the pixel count (1 × 49,999,999) yet exhaust the encoders.
MAX_SIDE = 16_383
MAX_ASPECT_RATIO = 20
# Colour profiles larger than this (sRGB is 3 KB, Display P3 half a kilobyte) are converted to
# sRGB and left out, not copied into the original and every rendition.
MAX_ICC_PROFILE_BYTES = 8 * 1024

# Pillow's format names; AVIF only when this Pillow was built with it.
ACCEPTED_FORMATS = ["JPEG", "PNG", "WEBP", "GIF"] + (["AVIF"] if features.check("avif") else [])
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "AVIF": "avif"}

# The responsive ladder (CSS pixels × density). Never wider than the original.
LADDER_WIDTHS = (160, 320, 640, 960, 1280, 1920)
# Crops cut around the focal point, at most this size (never enlarged): the social card,
# and the 16:9, 4:3 and 1:1 images Google asks for in an article's structured data.
CROP_SIZES = {
    Rendition.Kind.SOCIAL: (1200, 630),
    Rendition.Kind.WIDE: (1200, 675),
    Rendition.Kind.STANDARD: (1200, 900),
    Rendition.Kind.SQUARE: (1200, 1200),
}
RENDITION_FORMATS = [Rendition.Format.JPEG, Rendition.Format.WEBP] + (
    [Rendition.Format.AVIF] if features.check("avif") else []
)
ENCODER_OPTIONS = {
    Rendition.Format.JPEG: {"format": "JPEG", "quality": 80, "optimize": True, "progressive": True},
    Rendition.Format.WEBP: {"format": "WEBP", "quality": 78, "method": 4},
    Rendition.Format.AVIF: {"format": "AVIF", "quality": 55, "speed": 8},
}
# Bump to mark every rendition stale (e.g. after changing the encoders above).
RENDITIONS_VERSION = 1


@dataclass(frozen=True)
class PreparedUpload:
    content: bytes
    format: str
    width: int
    height: int
    sha256: str

    @property
    def name(self):
        return f"{self.sha256}.{EXTENSIONS[self.format]}"

    def as_file(self):
        return ContentFile(self.content, name=self.name)


def accepted_formats_label():
    names = ["JPEG", "PNG", "WebP", "GIF"] + (["AVIF"] if "AVIF" in ACCEPTED_FORMATS else [])
    return ", ".join(names[:-1]) + " or " + names[-1]


def prepare_upload(upload):
    """
    Check an uploaded file and return a PreparedUpload: a re-encoded copy with
    the orientation applied and no metadata but the colour profile. Raises
    ValidationError with a message for the editor; nothing is stored here.
    """
    size = getattr(upload, "size", None)
    if size == 0:
        raise ValidationError("The file is empty (0 bytes). Choose the photo again.", code="empty")
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            "The file is %(size)s; the limit is %(limit)s. Export a smaller JPEG (about 4000 pixels wide is plenty).",
            params={"size": filesizeformat(size), "limit": filesizeformat(MAX_UPLOAD_BYTES)},
            code="too_large",
        )
    upload.seek(0)
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if not data:
        raise ValidationError("The file is empty (0 bytes). Choose the photo again.", code="empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError(
            "The file is larger than %(limit)s.", params={"limit": filesizeformat(MAX_UPLOAD_BYTES)}, code="too_large"
        )
    head = data[:2048].lstrip().lower()
    if b"<svg" in head or head.startswith((b"<?xml", b"<!doctype svg")):
        raise ValidationError(
            "SVG files are not accepted: they can carry scripts. Export the picture as PNG or JPEG.", code="svg"
        )
    not_an_image = ValidationError(
        "This file is not a photo we can use: upload a %(formats)s image.",
        params={"formats": accepted_formats_label()},
        code="not_an_image",
    )
    damaged = ValidationError(
        "This image is damaged or incomplete (perhaps the upload or the export was cut short). "
        "Export it again and upload the new file.",
        code="damaged",
    )

    with warnings.catch_warnings():
        # Pillow warns, then errors, on images with huge pixel counts (decompression bombs).
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        try:
            with PILImage.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as probe:
                _check_pixels(probe.size)
                probe.verify()
            with PILImage.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:
                image_format = image.format
                image.seek(0)
                image.load()
                clean = _clean_copy(image)
        except ValidationError:
            raise
        except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
            raise _too_many_pixels(None) from None
        except UnidentifiedImageError:
            raise not_an_image from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError):
            # Pillow reports truncated and corrupt data with all of these.
            raise damaged from None

    content = _encode_original(clean, image_format)
    return PreparedUpload(
        content=content,
        format=image_format,
        width=clean.width,
        height=clean.height,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _check_pixels(size):
    """Judged from the header alone, before a pixel is decoded."""
    width, height = size
    if width < 1 or height < 1:
        raise ValidationError("This image has no pixels.", code="damaged")
    if width > MAX_SIDE or height > MAX_SIDE:
        raise ValidationError(
            "This image is %(width)s × %(height)s pixels: each side may be at most %(limit)s pixels. Resize it "
            "(about 4000 pixels wide is plenty) and upload it again.",
            params={"width": f"{width:,}", "height": f"{height:,}", "limit": f"{MAX_SIDE:,}"},
            code="too_long_a_side",
        )
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise ValidationError(
            "This image is %(width)s × %(height)s pixels: a side may be at most %(ratio)s times the other. "
            "Crop it to a less extreme shape and upload it again.",
            params={"width": f"{width:,}", "height": f"{height:,}", "ratio": MAX_ASPECT_RATIO},
            code="too_narrow",
        )
    if width * height > MAX_PIXELS:
        raise _too_many_pixels(size)


def _too_many_pixels(size):
    detail = f" ({size[0]:,}×{size[1]:,} pixels)" if size else ""
    return ValidationError(
        "This image is too large%(detail)s: the limit is 50 megapixels. Resize it (about 4000 pixels wide is "
        "plenty) and upload it again.",
        params={"detail": detail},
        code="too_many_pixels",
    )


def _clean_copy(image):
    """
    The first frame, upright, in RGB(A) or L, with no metadata but the colour
    profile. Animated GIFs and WebPs keep only their first frame.
    """
    icc_profile = image.info.get("icc_profile")
    upright = ImageOps.exif_transpose(image)
    if upright.mode == "CMYK":
        upright, icc_profile = upright.convert("RGB"), None  # a CMYK profile no longer fits
    elif upright.mode in {"I", "I;16", "I;16L", "I;16B", "I;16N"}:
        # 16-bit greyscale: scale to 8 bits (a plain convert() clips every value above 255 to white).
        upright, icc_profile = upright.convert("I").point(lambda value: value / 257).convert("L"), None
    elif upright.mode not in {"RGB", "RGBA", "L", "LA"}:
        has_alpha = upright.mode in {"PA", "RGBa", "La"} or "transparency" in upright.info
        upright = upright.convert("RGBA" if has_alpha else "RGB")
    # A fresh image carries no info dictionary: EXIF, XMP, comments and text chunks all stay behind.
    upright, icc_profile = _small_profile(upright, icc_profile)
    clean = PILImage.new(upright.mode, upright.size)
    clean.paste(upright)
    if icc_profile:
        clean.info["icc_profile"] = icc_profile
    return clean


def _small_profile(image, icc_profile):
    """
    `image` and the colour profile to keep with it: a profile up to MAX_ICC_PROFILE_BYTES as it
    is; a larger one converted to sRGB (the web's default, so no profile is needed) or, when it
    cannot be read, left out.
    """
    if not icc_profile or len(icc_profile) <= MAX_ICC_PROFILE_BYTES:
        return image, icc_profile
    if image.mode in {"RGB", "RGBA"}:
        try:
            converted = ImageCms.profileToProfile(
                image, ImageCms.ImageCmsProfile(io.BytesIO(icc_profile)), SRGB_PROFILE, outputMode=image.mode
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            logger.info("Dropped an unreadable %d-byte colour profile", len(icc_profile))
        else:
            return converted, None
    return image, None


SRGB_PROFILE = ImageCms.createProfile("sRGB")


def _encode_original(image, image_format):
    options = {"icc_profile": image.info.get("icc_profile")} if image.info.get("icc_profile") else {}
    if image_format == "JPEG":
        image = _flatten(image)
        options.update(quality=90, optimize=True, progressive=True)
    elif image_format == "PNG":
        options.update(optimize=True)
    elif image_format == "WEBP":
        options.update(quality=90)
    elif image_format == "AVIF":
        options.update(quality=85)
    elif image_format == "GIF":
        image = image.convert("RGBA").quantize() if image.mode in {"RGBA", "LA"} else image.convert("P")
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def _flatten(image):
    """JPEG has no transparency: put transparent pixels on white."""
    if image.mode in {"RGBA", "LA"}:
        background = PILImage.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        background.info = dict(image.info)
        return background
    return image


# Renditions.


@dataclass(frozen=True)
class Spec:
    kind: str
    format: str
    width: int  # the width asked for; the social card's is 1200

    @property
    def key(self):
        return f"{self.kind}.{self.format}" if self.kind in CROP_SIZES else f"w{self.width}.{self.format}"


def specs_for(image):
    """The renditions an image should have: the ladder up to its own width, and the crops (JPEG)."""
    widths = [width for width in LADDER_WIDTHS if width <= image.width] or [image.width]
    specs = [Spec(Rendition.Kind.WIDTH, format, width) for width in widths for format in RENDITION_FORMATS]
    specs += [Spec(kind, Rendition.Format.JPEG, size[0]) for kind, size in CROP_SIZES.items()]
    return specs


def signature_for(image, spec):
    parts = [RENDITIONS_VERSION, image.sha256, spec.key, sorted(ENCODER_OPTIONS[spec.format].items())]
    if spec.kind in CROP_SIZES:
        parts.append(image.focal_point)
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def rendition_name(image, spec, signature):
    extension = "jpg" if spec.format == Rendition.Format.JPEG else spec.format
    return f"renditions/{image.sha256[:2]}/{image.sha256[:16]}/{spec.key.split('.')[0]}-{signature[:8]}.{extension}"


def ensure_renditions(image, *, force=False, verify_files=False):
    """
    Make the renditions `image` lacks (or whose source or settings changed, or
    all of them with force=True), and remove those no longer wanted. Idempotent:
    a second call does nothing. With verify_files=True, a rendition whose file
    has gone from storage is made again. Returns the number made.
    """
    existing = {rendition.spec: rendition for rendition in image.renditions.all()}
    wanted = specs_for(image)
    to_make = []
    for spec in wanted:
        rendition = existing.get(spec.key)
        if (
            force
            or rendition is None
            or rendition.signature != signature_for(image, spec)
            or (verify_files and not default_storage.exists(rendition.file.name))
        ):
            to_make.append(spec)
    obsolete = [rendition for key, rendition in existing.items() if key not in {spec.key for spec in wanted}]
    if obsolete:
        # Their files go on commit (delete_file_with_row below).
        Rendition.objects.filter(pk__in=[rendition.pk for rendition in obsolete]).delete()
    remaking = {spec.key for spec in to_make}
    record_file_sizes(image, [r for key, r in existing.items() if key not in remaking and r.file_size is None])
    if not to_make:
        return 0

    with image.file.open("rb") as stored, PILImage.open(stored, formats=ACCEPTED_FORMATS) as source:
        source.load()
        # A grey or CMYK profile would not fit the RGB renditions.
        icc_profile = source.info.get("icc_profile") if source.mode in {"RGB", "RGBA"} else None
        base = source if source.mode in {"RGB", "RGBA"} else source.convert("RGBA" if _has_alpha(source) else "RGB")
        # Originals stored before the cap may carry a large profile: never copy it into every rendition.
        base, icc_profile = _small_profile(base, icc_profile)
        made = 0
        failures = []
        # Each size is resized once and encoded in every format; widths go from the largest
        # down, each resized from the one before (much faster than from the full original).
        size_key, picture, step = None, None, base
        for spec in sorted(to_make, key=lambda spec: (-spec.width, spec.kind)):
            if (spec.kind, spec.width) != size_key:
                size_key = (spec.kind, spec.width)
                if spec.kind in CROP_SIZES:
                    picture = _crop(base, image.focal_point, CROP_SIZES[spec.kind])
                else:
                    picture = step = _resize(step, spec, base.size)
            try:
                content = _encode(picture, spec.format, icc_profile)
            except (OSError, ValueError, MemoryError) as error:
                # One encoder failing (e.g. AVIF on an odd size) must not cost the other renditions.
                logger.warning("Rendition %s of image %s failed: %s", spec.key, image.pk, error)
                failures.append(f"{spec.key}: {error or type(error).__name__}")
                continue
            signature = signature_for(image, spec)
            name = rendition_name(image, spec, signature)
            if default_storage.exists(name):
                default_storage.delete(name)
            stored_name = default_storage.save(name, ContentFile(content))
            old = existing.get(spec.key)
            Rendition.objects.update_or_create(
                image=image,
                spec=spec.key,
                defaults={
                    "kind": spec.kind,
                    "format": spec.format,
                    "width": picture.width,
                    "height": picture.height,
                    "file": stored_name,
                    "file_size": len(content),
                    "signature": signature,
                },
            )
            if old and old.file.name != stored_name:
                _delete_files_on_commit([old.file.name])
            made += 1
    # Drop the prefetched renditions so that the image shows the new ones.
    getattr(image, "_prefetched_objects_cache", {}).pop("renditions", None)
    image.__dict__.pop("picture", None)
    image.__dict__.pop("thumbnail_picture", None)
    if failures:
        raise RenditionError(f"{len(failures)} of {len(to_make)} renditions failed: " + "; ".join(failures))
    return made


class RenditionError(Exception):
    """Some renditions could not be encoded; the others were made."""


def make_renditions(image, **options):
    """
    ensure_renditions() with its outcome recorded on the image, which the image admin shows:
    ready, or failed with the error (and how many attempts in a row). Re-raises the error.
    """
    images = Image.objects.filter(pk=image.pk)
    try:
        made = ensure_renditions(image, **options)
    except Exception as error:
        images.update(
            renditions_status=Image.RenditionsStatus.FAILED,
            renditions_error=str(error)[:2000] or type(error).__name__,
            renditions_attempts=F("renditions_attempts") + 1,
        )
        raise
    images.update(renditions_status=Image.RenditionsStatus.READY, renditions_error="", renditions_attempts=0)
    return made


def record_file_sizes(image, renditions):
    """
    Sizes for files stored before sizes were recorded (asked of the storage once,
    never at page time): the original's and those of `renditions`.
    """
    if image.file_size is None and image.file.name:
        image.file_size = _stored_size(image.file.name)
        Image.objects.filter(pk=image.pk).update(file_size=image.file_size)
    for rendition in renditions:
        rendition.file_size = _stored_size(rendition.file.name)
        Rendition.objects.filter(pk=rendition.pk).update(file_size=rendition.file_size)


def _stored_size(name):
    try:
        return default_storage.size(name)
    except OSError:  # gone from storage: --verify-files makes renditions again
        return None


def _has_alpha(image):
    return image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info


def _resize(image, spec, original_size):
    """`image` scaled to the spec's width; the height follows the original's proportions (no drift)."""
    if image.width <= spec.width:
        return image
    height = max(1, round(original_size[1] * spec.width / original_size[0]))
    return image.resize((spec.width, height), PILImage.Resampling.LANCZOS, reducing_gap=3.0)


def _crop(image, focal_point, size):
    """The largest box of `size`'s proportions around the focal point, scaled down to `size` (never up)."""
    target_width, target_height = size
    ratio = target_width / target_height
    if image.width / image.height > ratio:
        box_width, box_height = round(image.height * ratio), image.height
    else:
        box_width, box_height = image.width, round(image.width / ratio)
    focal_x, focal_y = focal_point
    left = min(max(round(focal_x * image.width - box_width / 2), 0), image.width - box_width)
    top = min(max(round(focal_y * image.height - box_height / 2), 0), image.height - box_height)
    cropped = image.crop((left, top, left + box_width, top + box_height))
    if box_width > target_width:
        cropped = cropped.resize(size, PILImage.Resampling.LANCZOS, reducing_gap=3.0)
    return cropped


def _encode(picture, format, icc_profile):
    options = dict(ENCODER_OPTIONS[format])
    if format == Rendition.Format.JPEG:
        picture = _flatten(picture)
    if icc_profile:
        options["icc_profile"] = icc_profile
    buffer = io.BytesIO()
    picture.save(buffer, **options)
    return buffer.getvalue()


def _delete_files_on_commit(names):
    def delete():
        for name in names:
            try:
                default_storage.delete(name)
            except OSError:
                logger.warning("Could not delete %s from storage", name, exc_info=True)

    transaction.on_commit(delete)


def request_renditions(image):
    """
    Have the worker make the image's renditions once the upload is committed (tasks framework);
    until then pages show those already made, or a placeholder.
    """
    from .tasks import generate_renditions

    Image.objects.filter(pk=image.pk).update(renditions_status=Image.RenditionsStatus.PENDING, renditions_error="")
    transaction.on_commit(lambda: generate_renditions.enqueue(image.pk))


@receiver(post_delete, sender=Image)
@receiver(post_delete, sender=Rendition)
def delete_file_with_row(sender, instance, **kwargs):
    """A deleted image or rendition takes its file with it, once the deletion is committed."""
    if instance.file.name:
        _delete_files_on_commit([instance.file.name])


def save_prepared_image(*, prepared, uploaded_by=None, renditions=True, **fields):
    """
    Store a PreparedUpload as a new Image (the shell's and commands' way in; the admin uses
    ImageForm), and ask for its renditions once it is committed unless renditions=False.
    """
    image = Image(
        sha256=prepared.sha256,
        width=prepared.width,
        height=prepared.height,
        file_size=len(prepared.content),
        uploaded_by=uploaded_by,
        **fields,
    )
    image.full_clean(exclude=["file"])
    image.file.save(prepared.name, prepared.as_file(), save=False)
    image.save()
    if renditions:
        request_renditions(image)
    return image
