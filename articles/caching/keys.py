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

from ..models import (
    RELATED_WINDOW,
    Article,
    Author,
    Authorship,
    BreakingNews,
    Correction,
    FrontPageSlot,
    Image,
    LiveUpdate,
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
FRONT_PAGE = "front-page"  # the editors' choice of lead and top stories, on the home page
ARCHIVE = "archive"
CORRECTIONS = "corrections"
SITEMAPS = "sitemaps"
SEARCH = "search"  # search results: any change to a public article's text or place may change them


def key(kind, pk):
    """
    `article-12`: a page showing the whole article (its page, a feed entry with its body);
    `teaser-12`: its teaser, link or listing (loaded without its body); `tag-3`, `author-2`, `image-7`.
    """
    return f"{kind}-{pk}"


def list_of(kind, pk):
    """The pages and feeds listing a section's, tag's or author's articles."""
    return f"{kind}-{pk}-list"


def list_key(scope):
    return list_of(scope._meta.model_name, scope.pk)


def related_keys(tag_ids, article_pk, *, nearby=False):
    """
    Related lists are filled from articles sharing a tag within RELATED_WINDOW ids: keyed
    by tag and id bucket. `nearby`: the buckets of every article whose window holds this one.
    """
    bucket = article_pk // RELATED_WINDOW
    buckets = (bucket - 1, bucket, bucket + 1) if nearby else (bucket,)
    return {f"related-{tag}-{each}" for tag in tag_ids for each in buckets}


def related_lists(article):
    """The keys an article's related list depends on (its tags are prefetched on article pages)."""
    return related_keys([tag.pk for tag in article.tags.all()], article.pk)


# --- What a page shows --------------------------------------------------------------------

_page_keys = ContextVar("newsroom_page_keys", default=None)
_instance_key = {
    Article: lambda article: key("teaser" if "body" in article.get_deferred_fields() else "article", article.pk),
    Tag: lambda tag: key("tag", tag.pk),
    Author: lambda author: key("author", author.pk),
    Image: lambda image: key("image", image.pk),
    Rendition: lambda rendition: key("image", rendition.image_id),
}


@dataclass
class Shown:
    """What a page being rendered depends on: keys, and the time it changes by itself, if any."""

    keys: set
    instances: bool
    changes_at: datetime | None = None


@contextmanager
def collecting(*keys, instances=True):
    """Collect the keys of the page rendered inside; `instances=False` for pages listing the whole site."""
    shown = Shown(keys={ALL, MENU, *keys}, instances=instances)
    token = _page_keys.set(shown)
    try:
        yield shown
    finally:
        _page_keys.reset(token)


def shows(*keys):
    """Declare that the page being rendered shows these keys (lists, mainly)."""
    if (page := _page_keys.get()) is not None:
        page.keys.update(keys)


def changes_at(when):
    """
    Declare that the page being rendered changes at `when` with no write (an
    article leaving a time window): its cached copy expires then.
    """
    if (page := _page_keys.get()) is not None:
        page.changes_at = when if page.changes_at is None else min(page.changes_at, when)


def _instance_loaded(sender, instance, **kwargs):
    page = _page_keys.get()
    if page is not None and page.instances and instance.pk is not None:
        page.keys.add(_instance_key[sender](instance))


# --- What a change affects ------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """Where an article shows (which lists, in what order, in which scopes), and what its teaser says."""

    is_live: bool
    is_scheduled: bool
    published_at: datetime
    section_id: int | None
    tag_ids: frozenset
    author_ids: frozenset
    teaser: tuple

    @property
    def is_public(self):
        return self.is_live or self.is_scheduled

    def moved_from(self, other):
        where = ("is_live", "is_scheduled", "published_at", "section_id", "tag_ids", "author_ids")
        return any(getattr(self, name) != getattr(other, name) for name in where)

    def lists(self, pk):
        """The lists this placement puts a live article on."""
        return {
            HOME,
            ARCHIVE,
            CORRECTIONS,
            *([list_of("section", self.section_id)] if self.section_id else []),
            *(list_of("tag", tag) for tag in self.tag_ids),
            *(list_of("author", author) for author in self.author_ids),
            *related_keys(self.tag_ids, pk, nearby=True),
        }


TEASER_FIELDS = ("headline", "standfirst", "slug", "lead_image_id")


def placement(pk):
    """An article's placement now, read from the database (None when it does not exist)."""
    row = Article.objects.filter(pk=pk).values("status", "published_at", "section_id", *TEASER_FIELDS).first()
    if row is None:
        return None
    state = Article(status=row["status"], published_at=row["published_at"])  # its is_live/is_scheduled
    return Placement(
        is_live=state.is_live,
        is_scheduled=state.is_scheduled,
        published_at=row["published_at"],
        section_id=row["section_id"],
        tag_ids=frozenset(TaggedArticle.objects.filter(content_object_id=pk).values_list("tag_id", flat=True)),
        author_ids=frozenset(Authorship.objects.filter(article_id=pk).values_list("author_id", flat=True)),
        teaser=tuple(row[field] for field in TEASER_FIELDS),
    )


def article_change(pk, before, after):
    """The keys a change of article `pk` from placement `before` to `after` (None: absent) makes stale."""
    keys = {key("article", pk)}
    if not any(state and state.is_public for state in (before, after)):
        return keys  # a draft shows nowhere
    keys.add(SEARCH)
    if after and after.is_live:
        keys.add(SITEMAPS)  # its modified date
    if not (before and after) or before.teaser != after.teaser:
        keys.add(key("teaser", pk))
    if before and after and not after.moved_from(before):
        return keys  # an edit in place shows where its own keys are
    if after and after.is_scheduled:
        # Cached pages expire at the next scheduled publication; a new or moved one changes when that is.
        return {ALL}
    keys |= {key("teaser", pk), SITEMAPS}
    for state in (before, after):
        if state and state.is_live:
            keys |= state.lists(pk)
    if menu_changes(pk, before, after):
        keys.add(MENU)
    if after and after.is_live:
        # Its new neighbours in every scope link to it now; pages that linked to it carry its key already.
        article = Article.objects.get(pk=pk)
        # Scopes as get_links() takes them: the Section or Tag itself (a queryset would read as the whole site).
        scopes = [None, *([Section(pk=after.section_id)] if after.section_id else [])]
        scopes += [Tag(pk=tag) for tag in after.tag_ids]
        for scope in scopes:
            keys |= {key("article", other.pk) for other in article.get_previous_and_next_published(scope) if other}
        # Curated related lists that point at it (hidden while it was not live).
        sources = Related.objects.filter(related_article_id=pk).values_list("article_id", flat=True)
        keys |= {key("article", source) for source in sources}
    return keys


def menu_changes(pk, before, after):
    """
    True when article `pk` is the first published article of a section or was
    its last: the menu lists only sections with one (a query per section it joins or leaves).
    """
    live_in = [state.section_id if state and state.is_live else None for state in (before, after)]
    if live_in[0] == live_in[1]:
        return False
    published = Article.objects.published().exclude(pk=pk)
    return any(section is not None and not published.filter(section_id=section).exists() for section in live_in)


# Before-states are kept on the instance the pre_* signal saw, for its post_* signal.
def _article_ids(sender, instance):
    if sender is Article:
        return [instance.pk]
    return [instance.content_object_id if sender is TaggedArticle else instance.article_id]


def _placements(ids):
    return {pk: placement(pk) for pk in ids if pk is not None}


def _changes(before, ids):
    """The keys made stale by the articles `ids` moving from their `before` placements to their current ones."""
    keys = set()
    for pk in ids:
        keys |= article_change(pk, before.get(pk), placement(pk))
    return keys


def _before(sender, instance, raw=False, **kwargs):
    if enabled() and not raw:
        instance._placements_before = _placements(_article_ids(sender, instance))


def _after(sender, instance, raw=False, **kwargs):
    if not enabled():
        return
    if raw:  # loaddata: a whole newsroom may arrive, drop everything once
        return invalidate_on_commit({ALL})
    before = instance.__dict__.pop("_placements_before", {})
    invalidate_on_commit(_changes(before, _article_ids(sender, instance)))


def _m2m_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not enabled():
        return
    if reverse and action in ("pre_clear", "post_clear"):
        return invalidate_on_commit({ALL})  # tag.articles.clear(): rare, and the ids are gone
    ids = sorted(pk_set or []) if reverse else [instance.pk]
    if action.startswith("pre_"):
        instance._m2m_placements_before = _placements(ids)
    else:
        invalidate_on_commit(_changes(instance.__dict__.pop("_m2m_placements_before", {}), ids))


# What a saved or deleted row of the other models makes stale.
_row_keys = {
    Related: lambda related: {key("article", related.article_id)},
    Correction: lambda correction: {key("article", correction.article_id), CORRECTIONS, SITEMAPS},
    # Shown on its article's page and in the feed entries carrying that article's body, nowhere else.
    LiveUpdate: lambda update: {key("article", update.article_id)},
    Section: lambda section: {MENU},
    Tag: lambda tag: {key("tag", tag.pk), list_key(tag), SEARCH},
    Author: lambda author: {key("author", author.pk), list_key(author)},
    Image: lambda image: {key("image", image.pk)},
    Rendition: lambda rendition: {key("image", rendition.image_id)},
    FrontPageSlot: lambda slot: {FRONT_PAGE},
    BreakingNews: lambda banner: {ALL},  # on every page
}


def _row_changed(sender, instance, **kwargs):
    if enabled():
        invalidate_on_commit(_row_keys[sender](instance))


def _bulk_change(sender, article_ids=(), tag_ids=(), section_ids=(), author_ids=(), **kwargs):
    """articles.signals.content_changed: a bulk write (a tag merge) names what it touched."""
    if not enabled():
        return
    keys = {SEARCH} | {key("article", pk) for pk in article_ids} | {key("teaser", pk) for pk in article_ids}
    for pk in article_ids:
        keys |= related_keys(tag_ids, pk, nearby=True)
    keys |= {each for tag in tag_ids for each in (key("tag", tag), list_of("tag", tag))}
    keys |= {list_of("section", section) for section in section_ids}
    keys |= {each for author in author_ids for each in (key("author", author), list_of("author", author))}
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
    for model in _row_keys:
        post_save.connect(_row_changed, sender=model, dispatch_uid=f"cache_keys_{model.__name__}_save")
        post_delete.connect(_row_changed, sender=model, dispatch_uid=f"cache_keys_{model.__name__}_delete")
    content_changed.connect(_bulk_change, dispatch_uid="cache_keys_bulk")
