"""
Writes that touch several rows or have side effects: each does the update,
records a django-reversion revision with who did it and why, and lets the
cache know. Call them from the admin, management commands and tests.

The cache follows Django's model signals, so articles change through
`save(update_fields=...)`, one at a time (an admin action touches at most a
page of them). A write that bypasses model signals (bulk_create, a tag merge)
sends `articles.signals.content_changed` inside its transaction instead.
"""

import reversion
from django.db import transaction
from django.utils import timezone

from .models import Article, TaggedArticle
from .signals import content_changed


def _save_with_revision(article, *, fields, by, comment):
    with reversion.create_revision():
        article.save(update_fields=fields)  # reversion records it on post_save
        reversion.set_user(by)
        reversion.set_comment(comment)


def _locked(articles):
    # By primary key: the admin's queryset may be DISTINCT (a tag filter), which
    # cannot be locked; in id order, so two writers never wait on each other.
    ids = articles.values("pk") if hasattr(articles, "values") else [article.pk for article in articles]
    return Article.objects.filter(pk__in=ids).select_for_update().order_by("pk")


@transaction.atomic
def publish_articles(*, articles, by, comment="Published now."):
    """
    Make `articles` (a queryset or a list) live now: drafts and scheduled
    articles get the current time, those already live keep theirs. One
    revision per article changed, by `by`. Returns how many changed.
    """
    now = timezone.now()
    changed = 0
    for article in _locked(articles):
        if article.is_live:
            continue
        article.status = Article.Status.PUBLISHED
        article.published_at = now
        _save_with_revision(article, fields=["status", "published_at"], by=by, comment=comment)
        changed += 1
    return changed


@transaction.atomic
def unpublish_articles(*, articles, by, comment="Unpublished."):
    """
    Return the published and scheduled ones among `articles` to draft (their
    publication time stays). One revision per article changed, by `by`.
    Returns how many changed.
    """
    changed = 0
    for article in _locked(articles):
        if article.status != Article.Status.PUBLISHED:
            continue
        article.status = Article.Status.DRAFT
        _save_with_revision(article, fields=["status"], by=by, comment=comment)
        changed += 1
    return changed


@transaction.atomic
def merge_tags(*, tags, into):
    """
    Re-tag every article carrying one of `tags` with `into`, then delete `tags`.
    An article that already has `into` (or several of `tags`) ends with it once.
    Returns the number of articles re-tagged.
    """
    sources = [tag for tag in tags if tag.pk != into.pk]
    tag_ids = {into.pk, *(tag.pk for tag in sources)}
    taggings = TaggedArticle.objects.filter(tag__in=sources)
    article_ids = set(taggings.values_list("content_object_id", flat=True))
    already_tagged = set(
        TaggedArticle.objects.filter(tag=into, content_object_id__in=article_ids).values_list(
            "content_object_id", flat=True
        )
    )
    TaggedArticle.objects.bulk_create(
        TaggedArticle(content_object_id=article_id, tag=into) for article_id in sorted(article_ids - already_tagged)
    )
    taggings.delete()
    for tag in sources:
        tag.delete()
    # bulk_create sends no model signals.
    content_changed.send(
        sender=merge_tags,
        article_ids=article_ids,
        tag_ids=tag_ids,
        section_ids=(),
        author_ids=(),
    )
    return len(article_ids)


def _retag(articles, *, by, comment, change):
    changed = 0
    for article in _locked(articles):
        with reversion.create_revision():
            if not change(article):
                continue
            # The tag change itself reaches the cache through m2m_changed; the save bumps
            # the version (an open form then gets the edit conflict) and keeps a revision.
            article.save(update_fields=[])
            reversion.set_user(by)
            reversion.set_comment(comment)
        changed += 1
    return changed


@transaction.atomic
def add_tag(*, articles, tag, by):
    """Tag each of `articles` with `tag`; one revision per article changed. Returns how many changed."""
    tagged = set(TaggedArticle.objects.filter(tag=tag).values_list("content_object_id", flat=True))

    def change(article):
        if article.pk in tagged:
            return False
        article.tags.add(tag)
        return True

    return _retag(articles, by=by, comment=f"Tag “{tag.name}” added (list action).", change=change)


@transaction.atomic
def remove_tag(*, articles, tag, by):
    """Take `tag` off each of `articles`; one revision per article changed. Returns how many changed."""
    tagged = set(TaggedArticle.objects.filter(tag=tag).values_list("content_object_id", flat=True))

    def change(article):
        if article.pk not in tagged:
            return False
        article.tags.remove(tag)
        return True

    return _retag(articles, by=by, comment=f"Tag “{tag.name}” removed (list action).", change=change)
