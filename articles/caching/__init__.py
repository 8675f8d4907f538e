"""
The page cache: anonymous readers' public pages, stored whole, never stale.

A view decorator (``cache_public_page``), applied in articles/urls.py and
newsroom/urls.py to the public views only, stores pages: what is cached is
then visible in the URL list, and admin, previews, preview links and /healthz
are left out by not being decorated. ``PageCacheMiddleware`` serves the stored
pages, early, and nothing else.

Keys. Every page key contains the content generation, an integer kept in the
cache under ``newsroom:generation``. Any change that can affect a public page
(a save or delete of an article, section, author, tag, tagging, authorship,
curated relation, correction, image or rendition, an article's tags or authors
changing, ``publish_now``/``unpublish``, ``loaddata``) increments it, at once
and again after the transaction commits (so a reader who rendered the old
content in between cannot keep it). Every page key of the old generation is
then unreachable, on every app server sharing the cache; old entries expire.

Timeouts. A page is kept for NEWSROOM_CACHE_SECONDS, or less: never past the
next scheduled publication (one indexed query, cached per generation), so a
scheduled article appears on time with no write to announce it.

A hit costs one read of the shared cache (the generation) and no SQL: each
worker also keeps the pages it served lately in its own memory (the
"local_pages" cache), under the same generation-holding keys, so a copy there
is as fresh as the shared one; a page another worker rendered costs a second read.

Nothing is cached or served from the cache for a request carrying a session or
messages cookie (an editor, a logged-in user) or a logged-in user: those
responses get ``private, no-store``. Only 200 responses to GET without
Set-Cookie are stored; HEAD is answered from the stored GET.

Headers: ``Cache-Control: public, max-age=60, s-maxage=<timeout>,
stale-while-revalidate=30``, an ``ETag`` (a hash of the content) and
``Last-Modified`` (when the page was rendered, or the view's own), and
``304 Not Modified`` to a matching ``If-None-Match``/``If-Modified-Since``.

Fragments. The pieces of pages that many pages share and that cost the most
to build (the site header and footer, each teaser, an article's previous/next
and related links, the archive's months) are kept per generation too, by
``cached_fragment`` and the ``{% fragment %}`` template tag: in each process's
memory (the "local" cache), which is exact because the key holds the shared
generation. They serve the pages the page cache does not (its misses, or all
pages when NEWSROOM_CACHE_PAGES is off). NEWSROOM_CACHE_FRAGMENTS turns them on;
like pages, by default only with a shared cache, where the generation lives.
"""

import functools
import hashlib
import logging
import time
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache, caches
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import (
    add_never_cache_headers,
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.http import http_date, parse_http_date_safe

GENERATION_KEY = "newsroom:generation"
NONCE_PLACEHOLDER = b"__newsroom_csp_nonce__"
BROWSER_MAX_AGE = 60
STALE_WHILE_REVALIDATE = 30
# Headers rebuilt per response rather than stored with the page.
UNSTORED_HEADERS = {"set-cookie", "vary", "cache-control", "etag", "last-modified", "content-length"}
# The generation a page is rendered from, read once per request (PageCacheMiddleware sets a
# holder), so that all of its fragments agree and the shared cache is asked only once.
page_generation = ContextVar("newsroom_page_generation", default=None)
MISSING = object()

logger = logging.getLogger(__name__)


def quietly(operation, *args, default=None, **kwargs):
    """
    A cache operation that cannot fail a request: with the cache server down or
    unreachable, pages are built without it (and /healthz says so), not 500s.
    """
    try:
        return operation(*args, **kwargs)
    except Exception as error:  # any backend's connection error (redis, memcached, ...)
        logger.warning("The cache is unavailable, going on without it: %s", error)
        return default


def enabled():
    return getattr(settings, "NEWSROOM_CACHE_PAGES", True)


def fragments_enabled():
    return getattr(settings, "NEWSROOM_CACHE_FRAGMENTS", False)


def get_generation():
    """The current content generation; started from the clock if the cache lost it (never reuses an old one)."""
    holder = page_generation.get()
    if holder:
        return holder[0]
    generation = quietly(read_generation)  # None: the cache is unavailable, nothing is cached
    if holder is not None:
        holder.append(generation)
    return generation


def read_generation():
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, time.time_ns() // 1000, timeout=None)
        generation = cache.get(GENERATION_KEY)
    return generation


def bump_generation():
    """Make every cached page unreachable (on every server sharing the cache)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # missing: start from the clock, later than any generation used before
        if not quietly(cache.add, GENERATION_KEY, time.time_ns() // 1000, timeout=None):
            quietly(cache.incr, GENERATION_KEY)
    except Exception as error:  # the change is saved; the cache cannot hear of it
        logger.error(
            "The cache is unavailable, so pages cached before this change may be served until "
            "they expire (NEWSROOM_CACHE_SECONDS): %s",
            error,
        )


def content_changed(**kwargs):
    """Signal receiver: bump now (this process's later reads) and again once the transaction commits."""
    bump_generation()
    pending = getattr(transaction.get_connection(), "run_on_commit", [])
    if not any(callback[1] is bump_generation for callback in pending):  # once per transaction is enough
        transaction.on_commit(bump_generation)


def seconds_until_next_publication(generation):
    """Seconds until the next scheduled article goes live (None if there is none), cached per generation."""
    from ..models import Article

    key = f"newsroom:next-publication:{generation}"
    now = time.time()
    timestamp = quietly(cache.get, key)
    if timestamp is None or (timestamp and timestamp <= now):
        upcoming = (
            Article.objects.filter(status=Article.Status.PUBLISHED, published_at__gt=timezone.now())
            .order_by("published_at")
            .values("published_at")
            .first()
        )
        timestamp = upcoming["published_at"].timestamp() if upcoming else 0
        quietly(cache.set, key, timestamp, timeout=settings.NEWSROOM_CACHE_SECONDS)
    return max(0, int(timestamp - now)) if timestamp else None


def page_timeout(generation):
    seconds = settings.NEWSROOM_CACHE_SECONDS
    until_next = seconds_until_next_publication(generation)
    return seconds if until_next is None else min(seconds, until_next)


def cached_fragment(name, build):
    """
    build()'s value (a rendered piece of a page, or the objects behind one),
    computed once per content generation in each app server process and kept
    in its memory (the "local" cache): no network on a hit, and exact, since
    the key holds the shared generation. build() runs every time when fragment
    caching is off.
    """
    if not fragments_enabled() or (generation := get_generation()) is None:
        return build()
    key = f"newsroom:fragment:{generation}:{name}"
    local = caches["local"]
    value = local.get(key, MISSING)
    if value is MISSING:
        value = build()
        timeout = page_timeout(generation)
        if timeout > 0:
            local.set(key, value, timeout=timeout)
    return value


def has_private_cookies(request):
    return settings.SESSION_COOKIE_NAME in request.COOKIES or "messages" in request.COOKIES


def is_private_request(request):
    """An editor or any logged-in user (or anyone with a session or flash messages): never cached."""
    if has_private_cookies(request):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def page_key(request, generation):
    url = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    return f"newsroom:page:{generation}:{hashlib.sha256(url.encode()).hexdigest()}"


def public_headers(response, timeout):
    patch_cache_control(
        response,
        public=True,
        max_age=min(BROWSER_MAX_AGE, timeout),
        s_maxage=timeout,
        stale_while_revalidate=STALE_WHILE_REVALIDATE,
    )
    return response


def is_storable(request, response):
    return (
        request.method == "GET"
        and response.status_code == 200
        and not getattr(response, "streaming", False)
        and not response.cookies
        and "private" not in response.get("Cache-Control", "")
        and "no-store" not in response.get("Cache-Control", "")
    )


def conditional(request, response, etag, last_modified, timeout):
    """Validators and public Cache-Control on a response; 304 when the client already has this page."""
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    public_headers(response, timeout)
    return get_conditional_response(request, etag=etag, last_modified=last_modified, response=response)


def find_page(request, generation):
    """The stored page for this request in `generation`, from this worker's memory or the shared cache."""
    key = page_key(request, generation)
    local_pages = caches["local_pages"]
    stored = local_pages.get(key)
    if stored is None:
        stored = quietly(cache.get, key)
        if stored is not None:  # another worker or server rendered it: keep a copy here too
            local_pages.set(key, stored, timeout=max(1, stored[1] - int(time.time())))
    return stored


def respond(request, stored):
    """A response built from a stored page."""
    (content, headers, etag, last_modified), expires = stored
    if NONCE_PLACEHOLDER in content:
        content = content.replace(NONCE_PLACEHOLDER, str(request._csp_nonce).encode())
    response = HttpResponse(content)
    for name, value in headers:
        response[name] = value
    patch_vary_headers(response, ("Cookie",))  # as the page rendered for an anonymous reader had it
    return conditional(request, response, etag, last_modified, max(0, expires - int(time.time())))


class PageCacheMiddleware:
    """
    Answers an anonymous reader's GET or HEAD from the page cache before the
    middleware that such a hit does not need (sessions, CSRF, authentication,
    messages) and URL resolving run: the one place hits are served.
    cache_public_page, on the views, decides what is stored. Placed after the
    CSP middleware, so a hit still gets its own nonce and policy. It also holds
    the request's generation, read at most once, for the fragments.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = page_generation.set([])
        try:
            if enabled() and request.method in ("GET", "HEAD") and not has_private_cookies(request):
                generation = get_generation()
                stored = None if generation is None else find_page(request, generation)
                if stored is not None:
                    return respond(request, stored)
            return self.get_response(request)
        finally:
            page_generation.reset(token)


def cache_public_page(view):
    """Cache a public view's pages for anonymous readers (see the module docstring)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not enabled() or request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        if is_private_request(request):
            response = view(request, *args, **kwargs)
            add_never_cache_headers(response)
            return response

        # PageCacheMiddleware found no stored page for this request: render and store it.
        generation = get_generation()
        response = view(request, *args, **kwargs)
        if generation is None:  # the cache is unavailable
            return response
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        if is_private_request(request):  # the view logged someone in, or left a message
            add_never_cache_headers(response)
            return response
        if not is_storable(request, response):
            return response

        content = response.content
        nonce = getattr(request, "_csp_nonce", None)
        if nonce:  # the page used its CSP nonce: store a placeholder, each hit gets its own request's nonce
            content = content.replace(str(nonce).encode(), NONCE_PLACEHOLDER)
        etag = f'"{hashlib.sha256(content).hexdigest()[:32]}"'
        last_modified = parse_http_date_safe(response.get("Last-Modified", "")) or int(time.time())
        headers = [(name, value) for name, value in response.items() if name.lower() not in UNSTORED_HEADERS]
        timeout = page_timeout(generation)
        if timeout > 0:
            entry = (content, headers, etag, last_modified)
            stored = (entry, int(time.time()) + timeout)
            key = page_key(request, generation)
            quietly(cache.set, key, stored, timeout=timeout)
            caches["local_pages"].set(key, stored, timeout=timeout)
        return conditional(request, response, etag, last_modified, timeout)

    return wrapper


def connect_signals():
    """Bump the generation on every change that can show on a public page."""
    from ..models import (
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

    for model in (Article, Section, Author, Tag, TaggedArticle, Authorship, Related, Correction, Image, Rendition):
        uid = f"newsroom_cache_{model.__name__}"
        post_save.connect(content_changed, sender=model, dispatch_uid=f"{uid}_save")
        post_delete.connect(content_changed, sender=model, dispatch_uid=f"{uid}_delete")
    for through in (Article.tags.through, Article.authors.through):
        m2m_changed.connect(content_changed, sender=through, dispatch_uid=f"newsroom_cache_m2m_{through.__name__}")
