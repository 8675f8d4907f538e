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


class NotReady(Exception):
    """Some articles lack what readers need; nothing went live. `missing` maps each to its missing parts."""

    def __init__(self, missing):
        self.missing = missing
        super().__init__(self.message())

    def message(self):
        if len(self.missing) == 1:
            [parts] = self.missing.values()
            return f"Not published: it still needs {listed(parts)}."
        lines = "; ".join(f"“{article}” needs {listed(parts)}" for article, parts in self.missing.items())
        return f"Nothing was published: {lines}."


def listed(parts):
    """'a, b and c'."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def check_ready(articles):
    """Raise NotReady naming every article of `articles` that is not ready for readers."""
    missing = {article: parts for article in articles if (parts := article.missing_for_publication())}
    if missing:
        raise NotReady(missing)


@transaction.atomic
def publish_articles(*, articles, by, at=None, comment="Published."):
    """
    Publish `articles` (a queryset or a list) at `at`, or else each at the
    time an editor chose for it (Article.time_to_publish: a schedule, a
    back-date), or else now. Live articles keep their time: publishing again
    never moves a live story; a scheduled one without `at` stays scheduled.
    All or nothing: if one is not ready (missing_for_publication), NotReady
    lists what each lacks and none changes. One revision per article changed,
    by `by`. Returns how many changed.
    """
    now = timezone.now()
    changes = []
    for article in _locked(articles):
        when = at or article.time_to_publish(now)
        if article.is_live or (article.status == Article.Status.PUBLISHED and article.published_at == when):
            continue
        changes.append((article, when))
    check_ready([article for article, _when in changes])
    for article, when in changes:
        article.status = Article.Status.PUBLISHED
        article.published_at = when
        article.publication_time_chosen = True
        fields = ["status", "published_at", "publication_time_chosen"]
        _save_with_revision(article, fields=fields, by=by, comment=comment)
    return len(changes)


@transaction.atomic
def unpublish_articles(*, articles, by, comment="Unpublished."):
    """
    Return the published and scheduled ones among `articles` to draft (their
    publication time stays, so publishing them again from the form puts them
    back at the same address). One revision per article changed, by `by`.
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
