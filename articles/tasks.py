"""
Background work, through Django's tasks framework: queued in the database (django-tasks-db)
and run by `manage.py db_worker` (`make worker`). See docs/deployment.md and docs/photos.md.
"""

from datetime import timedelta

from django.tasks import task, task_backends
from django.utils import timezone

# Seconds before each new attempt after a failure: a full disk or a storage outage has time to pass.
RETRY_DELAYS = (60, 10 * 60, 60 * 60)


@task(takes_context=True)
def generate_renditions(context, image_id):
    """
    Make the missing renditions of one image; returns how many were made. Safe to run twice.
    A failure is recorded on the image and tried again later (RETRY_DELAYS), then left for the
    image admin's "Make renditions again" action.
    """
    from .images import make_renditions
    from .models import Image

    image = Image.objects.filter(pk=image_id).prefetch_related("renditions").first()
    if image is None:  # deleted before the task ran
        return 0
    try:
        return make_renditions(image)
    except Exception:
        attempts = Image.objects.filter(pk=image_id).values_list("renditions_attempts", flat=True).first() or 0
        backend = context.task_result.backend
        if attempts <= len(RETRY_DELAYS) and task_backends[backend].supports_defer:
            run_after = timezone.now() + timedelta(seconds=RETRY_DELAYS[max(attempts, 1) - 1])
            generate_renditions.using(backend=backend, run_after=run_after).enqueue(image_id)
        raise
