"""Small builders for tests: make_article(days=-1, status=...) and friends."""

from datetime import timedelta
from itertools import count

from django.utils import timezone

from articles.models import Article, Author, Authorship, Related, Section

_serial = count(1)


def make_section(name=None, **fields):
    n = next(_serial)
    name = name or f"Section {n}"
    return Section.objects.create(name=name, slug=fields.pop("slug", f"section-{n}"), **fields)


def make_author(name=None, **fields):
    n = next(_serial)
    name = name or f"Author {n}"
    return Author.objects.create(name=name, slug=fields.pop("slug", f"author-{n}"), **fields)


def make_article(days=-1, status=Article.Status.PUBLISHED, tags=(), authors=(), published_at=None, **fields):
    """An article published `days` from now (negative: in the past, positive: scheduled)."""
    n = next(_serial)
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
