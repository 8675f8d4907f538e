"""Background work, through Django's tasks framework (ImmediateBackend by default: no worker needed)."""

from django.tasks import task


@task
def generate_renditions(image_id):
    """Make the missing renditions of one image; returns how many were made. Safe to run twice."""
    from .images import ensure_renditions
    from .models import Image

    image = Image.objects.filter(pk=image_id).prefetch_related("renditions").first()
    if image is None:  # deleted before the task ran
        return 0
    return ensure_renditions(image)
