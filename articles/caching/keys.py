"""
Dependency keys: what a cached page shows, and which keys a change makes stale.

A page collects keys while it renders: every Article, Tag, Author, Image and
Rendition instance loaded adds its own key, and views add the lists a page is
(``shows()``). A write adds the keys it affects, computed from the article's
placement before and after it, and they are invalidated once it commits.
docs/caching.md explains the model.
"""

import threading
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save, pre_delete, pre_save
from django.utils import timezone

from ..models import (
    RELATED_WINDOW,
    Article,
    Author,
    Authorship,
    Correction,
    Image,
    Related,
    Rendition,
    Section,
    Tag,
    TaggedArticle,
)
from ..signals import content_changed

ALL = "all"  # every page
MENU = "menu"  # the section menu, on every page
HOME = "home"  # the latest articles: home pages and the site's feeds
ARCHIVE = "archive"
CORRECTIONS = "corrections"
SITEMAPS = "sitemaps"


def article_key(pk):
    """A page that shows the whole article (its own page, a feed with its body)."""
    return f"article-{pk}"


def teaser_key(pk):
    """A page that shows the article's teaser, link or listing (loaded without its body)."""
    return f"teaser-{pk}"


def tag_key(pk):
    return f"tag-{pk}"


def author_key(pk):
    return f"author-{pk}"


def image_key(pk):
    return f"image-{pk}"


def list_key(scope):
    """The list of a Section, Tag or Author: its pages and feeds."""
    return f"{scope._meta.model_name}-{scope.pk}-list"


def related_key(tag_pk, article_pk):
    """Related lists are filled from articles within RELATED_WINDOW ids: keyed by tag and id bucket."""
    return f"related-{tag_pk}-{article_pk // RELATED_WINDOW}"


def related_lists(article):
    """The keys an article's related list depends on (its tags, prefetched on article pages)."""
    return [related_key(tag.pk, article.pk) for tag in article.tags.all()]


# --- What a page shows --------------------------------------------------------------------

_page_keys = ContextVar("newsroom_page_keys", default=None)
_instance_key = {
    Article: lambda article: (teaser_key if "body" in article.get_deferred_fields() else article_key)(article.pk),
    Tag: lambda tag: tag_key(tag.pk),
    Author: lambda author: author_key(author.pk),
    Image: lambda image: image_key(image.pk),
    Rendition: lambda rendition: image_key(rendition.image_id),
}


@contextmanager
def collecting(*keys, instances=True):
    """Collect the keys of the page rendered inside; `instances=False` for pages listing the whole site."""
    collected = {ALL, MENU, *keys}
    token = _page_keys.set((collected, instances))
    try:
        yield collected
    finally:
        _page_keys.reset(token)


def shows(*keys):
    """Declare that the page being rendered shows these keys (lists, mainly)."""
    if (page := _page_keys.get()) is not None:
        page[0].update(keys)


def _instance_loaded(sender, instance, **kwargs):
    page = _page_keys.get()
    if page is not None and page[1] and instance.pk is not None:
        page[0].add(_instance_key[sender](instance))


# --- What a change affects ------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """Where an article shows (which lists, in what order, in which scopes), and what its teaser says."""

    status: str
    published_at: datetime
    section_id: int | None
    tag_ids: frozenset
    author_ids: frozenset
    teaser: tuple = ()

    def moved_from(self, other):
        return (self.status, self.published_at, self.section_id, self.tag_ids, self.author_ids) != (
            other.status,
            other.published_at,
            other.section_id,
            other.tag_ids,
            other.author_ids,
        )

    @property
    def is_live(self):
        return self.status == Article.Status.PUBLISHED and self.published_at <= timezone.now()

    @property
    def is_scheduled(self):
        return self.status == Article.Status.PUBLISHED and self.published_at > timezone.now()

    @property
    def is_public(self):
        return self.status == Article.Status.PUBLISHED

    def lists(self, pk):
        """The lists this placement puts an article on."""
        return {
            HOME,
            ARCHIVE,
            CORRECTIONS,
            *([f"section-{self.section_id}-list"] if self.section_id else []),
            *(f"tag-{tag}-list" for tag in self.tag_ids),
            *(f"author-{author}-list" for author in self.author_ids),
            # related lists of nearby articles (within RELATED_WINDOW ids) sharing a tag
            *(f"related-{tag}-{pk // RELATED_WINDOW + step}" for tag in self.tag_ids for step in (-1, 0, 1)),
        }


TEASER_FIELDS = ("headline", "standfirst", "slug", "lead_image_id")


def placement(pk):
    row = Article.objects.filter(pk=pk).values("status", "published_at", "section_id", *TEASER_FIELDS).first()
    if row is None:
        return None
    return Placement(
        status=row["status"],
        published_at=row["published_at"],
        section_id=row["section_id"],
        teaser=tuple(row[field] for field in TEASER_FIELDS),
        tag_ids=frozenset(TaggedArticle.objects.filter(content_object_id=pk).values_list("tag_id", flat=True)),
        author_ids=frozenset(Authorship.objects.filter(article_id=pk).values_list("author_id", flat=True)),
    )


def article_change(pk, before, after):
    """The keys a change of article `pk` from placement `before` to `after` (None: absent) makes stale."""
    keys = {article_key(pk)}
    if not any(state and state.is_public for state in (before, after)):
        return keys  # a draft shows nowhere
    if after and after.is_live:
        keys.add(SITEMAPS)  # its modified date
    if not (before and after) or before.teaser != after.teaser:
        keys.add(teaser_key(pk))
    if before and after and not after.moved_from(before):
        return keys  # an edit in place shows where its own keys are
    if after and after.is_scheduled:
        # Cached pages expire at the next scheduled publication; a new or moved one changes when that is.
        return {ALL}
    keys |= {teaser_key(pk), SITEMAPS}
    for state in (before, after):
        if state and state.is_live:
            keys |= state.lists(pk)
    if after and after.is_live:
        # Its new neighbours in every scope link to it now; pages that linked to it carry its key already.
        article = Article.objects.get(pk=pk)
        scopes = [None, *([Article.objects.filter(section_id=after.section_id)] if after.section_id else [])]
        scopes += [Article.objects.filter(tags=tag) for tag in after.tag_ids]
        for scope in scopes:
            keys |= {article_key(other.pk) for other in article.get_previous_and_next_published(scope) if other}
        # Curated related lists that point at it (hidden while it was not live).
        keys |= {
            article_key(source)
            for source in Related.objects.filter(related_article_id=pk).values_list("article_id", flat=True)
        }
    return keys


# Before-states are kept on the instance the pre_* signal saw, for its post_* signal.
def _article_ids(sender, instance):
    if sender is Article:
        return [instance.pk]
    return [instance.content_object_id if sender is TaggedArticle else instance.article_id]


def _before(sender, instance, raw=False, **kwargs):
    if not enabled() or raw:
        return
    ids = [pk for pk in _article_ids(sender, instance) if pk is not None]
    instance._placements_before = {pk: placement(pk) for pk in ids}


def _after(sender, instance, raw=False, **kwargs):
    if not enabled():
        return
    if raw:  # loaddata: a whole newsroom may arrive, drop everything once
        return invalidate_on_commit({ALL})
    before = instance.__dict__.pop("_placements_before", {})
    keys = set()
    for pk in _article_ids(sender, instance):
        keys |= article_change(pk, before.get(pk), placement(pk))
    invalidate_on_commit(keys)


def _m2m_articles(instance, reverse, pk_set):
    return sorted(pk_set or []) if reverse else [instance.pk]


def _m2m_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not enabled():
        return
    if reverse and action in ("pre_clear", "post_clear"):
        return invalidate_on_commit({ALL})  # tag.articles.clear(): rare, and the ids are gone
    ids = _m2m_articles(instance, reverse, pk_set)
    if action.startswith("pre_"):
        instance._m2m_placements_before = {pk: placement(pk) for pk in ids}
    else:
        before = instance.__dict__.pop("_m2m_placements_before", {})
        keys = set()
        for pk in ids:
            keys |= article_change(pk, before.get(pk), placement(pk))
        invalidate_on_commit(keys)


def _related_changed(sender, instance, **kwargs):
    if enabled():
        invalidate_on_commit({article_key(instance.article_id)})


def _correction_changed(sender, instance, **kwargs):
    if enabled():
        invalidate_on_commit({article_key(instance.article_id), CORRECTIONS, SITEMAPS})


def _section_changed(sender, instance, **kwargs):
    if enabled():
        invalidate_on_commit({MENU})


def _tag_changed(sender, instance, **kwargs):
    if enabled():
        invalidate_on_commit({tag_key(instance.pk), list_key(instance)})


def _author_changed(sender, instance, **kwargs):
    if enabled():
        invalidate_on_commit({author_key(instance.pk), list_key(instance)})


def _image_changed(sender, instance, **kwargs):
    if enabled():
        invalidate_on_commit({image_key(instance.image_id if sender is Rendition else instance.pk)})


def _bulk_change(sender, article_ids=(), tag_ids=(), section_ids=(), author_ids=(), **kwargs):
    """articles.signals.content_changed: a bulk write (a tag merge) names what it touched."""
    if not enabled():
        return
    keys = {article_key(pk) for pk in article_ids}
    keys |= {
        f"related-{tag}-{pk // RELATED_WINDOW + step}" for tag in tag_ids for pk in article_ids for step in (-1, 0, 1)
    }
    keys |= {key for tag in tag_ids for key in (tag_key(tag), f"tag-{tag}-list")}
    keys |= {f"section-{section}-list" for section in section_ids}
    keys |= {key for author in author_ids for key in (author_key(author), f"author-{author}-list")}
    if section_ids:
        keys.add(MENU)
    invalidate_on_commit(keys)


# --- Invalidation once the transaction commits ----------------------------------------------

_pending = threading.local()


def enabled():
    from . import pages, purge

    return pages.enabled() or purge.enabled()


def invalidate_on_commit(keys):
    """
    Invalidate `keys` at once (this process's next reads miss) and again when
    the transaction commits: a page rendered from the old rows meanwhile is
    dropped then, and HTTP caches are purged only once the change is visible.
    """
    from . import pages

    if pages.enabled():
        pages.invalidate(keys)
    pending = getattr(_pending, "keys", None)
    if pending is None:
        pending = _pending.keys = set()
    pending |= keys
    transaction.on_commit(flush)


def flush():
    """Every key pending in this thread, invalidated in the page cache and purged from HTTP caches."""
    keys, _pending.keys = getattr(_pending, "keys", None), None
    if not keys:
        return
    from . import pages, purge

    if pages.enabled():
        pages.invalidate(keys)
    if purge.enabled():
        purge.purge(keys)


def invalidate_everything():
    """After writes that send no signals (generate_corpus's bulk_create)."""
    invalidate_on_commit({ALL})


def connect():
    for model in _instance_key:
        post_init.connect(_instance_loaded, sender=model, dispatch_uid=f"cache_keys_loaded_{model.__name__}")
    for model in (Article, TaggedArticle, Authorship):
        uid = f"cache_keys_{model.__name__}"
        pre_save.connect(_before, sender=model, dispatch_uid=f"{uid}_pre_save")
        pre_delete.connect(_before, sender=model, dispatch_uid=f"{uid}_pre_delete")
        post_save.connect(_after, sender=model, dispatch_uid=f"{uid}_post_save")
        post_delete.connect(_after, sender=model, dispatch_uid=f"{uid}_post_delete")
    m2m_changed.connect(_m2m_changed, sender=Article.tags.through, dispatch_uid="cache_keys_tags")
    m2m_changed.connect(_m2m_changed, sender=Article.authors.through, dispatch_uid="cache_keys_authors")
    for model, receiver in (
        (Related, _related_changed),
        (Correction, _correction_changed),
        (Section, _section_changed),
        (Tag, _tag_changed),
        (Author, _author_changed),
        (Image, _image_changed),
        (Rendition, _image_changed),
    ):
        post_save.connect(receiver, sender=model, dispatch_uid=f"cache_keys_{model.__name__}_save")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"cache_keys_{model.__name__}_delete")
    content_changed.connect(_bulk_change, dispatch_uid="cache_keys_bulk")
