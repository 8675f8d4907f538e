"""Small builders for tests: make_article(days=-1, status=...) and friends."""

from datetime import timedelta
from itertools import count

from django.apps import apps
from django.contrib.auth.models import Group, User
from django.utils import timezone

from articles.models import Article, Author, Authorship, Related, Section
from articles.roles import ensure_roles

_serial = count(1)


def make_section(name=None, **fields):
    n = next(_serial)
    name = name or f"Section {n}"
    return Section.objects.create(name=name, slug=fields.pop("slug", f"section-{n}"), **fields)


def make_author(name=None, **fields):
    n = next(_serial)
    name = name or f"Author {n}"
    return Author.objects.create(name=name, slug=fields.pop("slug", f"author-{n}"), **fields)


def make_article(
    days=-1, status=Article.Status.PUBLISHED, tags=(), authors=(), published_at=None, ready=False, **fields
):
    """
    An article published `days` from now (negative: in the past, positive: scheduled).
    `ready`: with what publishing asks for (Article.missing_for_publication) besides the headline and body.
    """
    n = next(_serial)
    if ready:
        fields.setdefault("standfirst", f"Standfirst of article {n}.")
        fields.setdefault("credit", "Newsroom staff")
        if "section" not in fields and "section_id" not in fields:
            fields["section"] = make_section()
    fields.setdefault("headline", f"Headline {n}")
    fields.setdefault("slug", f"headline-{n}")
    fields.setdefault("body", f"<p>Body of article {n}.</p>")
    if published_at is None:
        published_at = timezone.now() + timedelta(days=days)
    article = Article.objects.create(status=status, published_at=published_at, **fields)
    if tags:
        article.tags.add(*tags)
    for position, author in enumerate(authors):
        Authorship.objects.create(article=article, author=author, position=position)
    return article


def relate(article, *related_articles):
    for position, related in enumerate(related_articles):
        Related.objects.create(article=article, related_article=related, position=position)


def make_image(width=1600, height=1000, renditions=True, **fields):
    """
    A photo in the library, through the real upload pipeline, with its renditions.
    Set MEDIA_ROOT to a temporary folder first (settings.MEDIA_ROOT = tmp_path).
    """
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image as PILImage

    from articles.images import make_renditions, prepare_upload, save_prepared_image

    n = next(_serial)
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), ((n * 37) % 256, (n * 91) % 256, (n * 53) % 256)).save(buffer, "PNG")
    prepared = prepare_upload(SimpleUploadedFile(f"photo-{n}.png", buffer.getvalue()))
    fields.setdefault("alt_text", f"Photo {n}")
    image = save_prepared_image(prepared=prepared, **fields)
    if renditions:
        make_renditions(image)
    return image


def member_of(group, username):
    """A staff user in the newsroom role `group` ("Reporter", "Editor")."""
    if not Group.objects.filter(name=group).exists():
        # A transactional test elsewhere in the run emptied the tables the migration filled.
        ensure_roles(apps)
    user = User.objects.create_user(username, f"{username}@example.com", "a-long-password-1", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user
