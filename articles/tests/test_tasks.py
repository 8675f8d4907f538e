"""
Renditions made by the worker: the production backend (django-tasks-db) and its
`db_worker` command, run in-process; retries; what pages show meanwhile.
"""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from PIL import Image as PILImage

from articles import images
from articles.models import Image, Rendition
from articles.tasks import RETRY_DELAYS

from .factories import make_article

# The worker takes and commits its own transactions, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def database_tasks(settings, tmp_path):
    settings.TASKS = DATABASE_TASKS
    settings.MEDIA_ROOT = tmp_path / "media"


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)


def upload_photo(client, size=(1400, 900)):
    buffer = io.BytesIO()
    PILImage.linear_gradient("L").resize(size).convert("RGB").save(buffer, "JPEG", quality=90)
    response = client.post(
        "/admin/articles/image/add/",
        {"file": SimpleUploadedFile("photo.jpg", buffer.getvalue()), "alt_text": "Dunes near Timbuktu"},
    )
    assert response.status_code == 302, response.text
    return Image.objects.get()


def test_an_upload_is_queued_and_the_worker_makes_its_renditions(admin_client, client):
    image = upload_photo(admin_client)

    # The upload answered without making renditions: the task waits in the database.
    assert image.renditions_status == Image.RenditionsStatus.PENDING
    assert not image.renditions.exists()
    assert DBTaskResult.objects.filter(task_path="articles.tasks.generate_renditions").count() == 1
    article = make_article(lead_image=image)
    page = client.get(article.get_absolute_url()).text
    assert page.count("/static/img/photo-pending.svg") == 1  # the <img>; not the social card or structured data
    assert image.file.url not in page

    run_worker()

    image.refresh_from_db()
    assert image.renditions_status == Image.RenditionsStatus.READY
    assert image.renditions.count() == len(images.specs_for(image))
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    page = client.get(article.get_absolute_url()).text
    assert "photo-pending.svg" not in page
    assert image.renditions.get(spec="w960.jpeg").url in page


def test_a_failed_task_is_retried_later_and_shown_meanwhile(admin_client, monkeypatch):
    encode = images._encode

    def broken_encoder(picture, format, icc_profile):
        raise OSError("encoder error -9")

    monkeypatch.setattr(images, "_encode", broken_encoder)
    image = upload_photo(admin_client)
    run_worker()

    image.refresh_from_db()
    assert image.renditions_status == Image.RenditionsStatus.FAILED
    assert "encoder error -9" in image.renditions_error
    assert image.renditions_attempts == 1
    first, retry = DBTaskResult.objects.order_by("enqueued_at")
    assert first.status == "FAILED"
    assert retry.status == "READY"
    assert 50 < (retry.run_after - timezone.now()).total_seconds() <= 60
    listing = admin_client.get("/admin/articles/image/")
    assert "Failed (1 attempt in a row): " in listing.text

    # Not before its time; then it succeeds once the encoder works again.
    run_worker()
    assert DBTaskResult.objects.get(pk=retry.pk).status == "READY"
    monkeypatch.setattr(images, "_encode", encode)
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    run_worker()

    image.refresh_from_db()
    assert (image.renditions_status, image.renditions_attempts) == (Image.RenditionsStatus.READY, 0)
    assert image.renditions.filter(format=Rendition.Format.JPEG).exists()


def test_retries_stop_after_the_last_delay(admin_client, monkeypatch):
    monkeypatch.setattr(images, "_encode", lambda *args: (_ for _ in ()).throw(OSError("broken")))
    image = upload_photo(admin_client, size=(200, 150))
    for _attempt in range(6):
        DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
        run_worker()
    image.refresh_from_db()
    assert image.renditions_attempts == len(RETRY_DELAYS) + 1
    assert not DBTaskResult.objects.filter(status="READY").exists()


@pytest.mark.page_cache
def test_a_cached_page_with_the_placeholder_is_refreshed_when_the_worker_is_done(admin_client, client):
    image = upload_photo(admin_client)
    article = make_article(lead_image=image)
    assert "photo-pending.svg" in client.get(article.get_absolute_url()).text
    assert "photo-pending.svg" in client.get(article.get_absolute_url()).text  # from the cache now

    run_worker()

    page = client.get(article.get_absolute_url()).text
    assert "photo-pending.svg" not in page
    assert Image.objects.get().renditions.get(spec="w960.jpeg").url in page
