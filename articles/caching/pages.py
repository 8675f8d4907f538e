"""
The page cache: anonymous readers' public pages, stored whole with the keys
they show, served until one of those keys is invalidated (docs/caching.md).

``cache_public_page`` (on the public views, in the URL lists) renders and
stores; ``PageCacheMiddleware`` serves hits before sessions, CSRF and auth run.
Invalidation: a shared counter (the clock) goes up on every invalidation and
each invalidated key records its value; a page read the clock before it
rendered, so it is stale exactly when one of its keys holds a later value.
"""

import functools
import hashlib
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.db.models import Min, Q
from django.http import HttpResponse
from django.middleware.csp import get_nonce
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.cache import (
    add_never_cache_headers,
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.http import http_date, parse_http_date_safe, urlencode

from . import keys as page_keys
from . import purge

CLOCK_KEY = "newsroom:clock"
# Shared caches drop a page at the start of the minute a scheduled story is published in (page_expiry).
SHARED_EXPIRY_GRID = 60
# Stands in for the CSP nonce in stored pages: content cannot contain it (text is
# escaped, and the body's sanitizer drops comments), so only real nonces are replaced.
NONCE_PLACEHOLDER = b"<!--newsroom:csp-nonce-->"
# A page gone stale is rendered again by one request; for at most this long, readers asking for it
# meanwhile get the stale copy (never stored downstream) instead of all rendering it at once.
RENDER_CLAIM_SECONDS = 2
# Headers rebuilt for each response rather than stored with the page.
UNSTORED_HEADERS = {"set-cookie", "vary", "cache-control", "etag", "last-modified", "content-length"}
KEY_HEADERS = ("xkey", "Surrogate-Key")  # Varnish's xkey, Fastly; Cloudflare's Cache-Tag is comma-separated

logger = logging.getLogger(__name__)


def enabled():
    return settings.NEWSROOM_CACHE_PAGES


def quietly(operation, *args, default=None, **kwargs):
    """A cache operation that cannot fail a request: with the cache down, pages are built without it."""
    try:
        return operation(*args, **kwargs)
    except Exception as error:  # any backend's connection error
        logger.warning("The cache is unavailable, going on without it: %s", error)
        return default


def read_clock():
    """The invalidation clock; started from the wall clock if the cache lost it (never reuses a value)."""
    clock = cache.get(CLOCK_KEY)
    if clock is None:
        cache.add(CLOCK_KEY, time.time_ns() // 1000, timeout=None)
        clock = cache.get(CLOCK_KEY)
    return clock


def invalidation_key(key):
    return f"newsroom:invalidated:{key}"


def invalidate(keys):
    """Make every stored page that shows one of `keys` stale, on every server sharing the cache."""
    try:
        try:
            clock = cache.incr(CLOCK_KEY)
        except ValueError:  # lost: restart above any value handed out before
            cache.add(CLOCK_KEY, time.time_ns() // 1000, timeout=None)
            clock = cache.incr(CLOCK_KEY)
        # Kept as long as any page stored before it can live.
        cache.set_many({invalidation_key(key): clock for key in keys}, timeout=settings.NEWSROOM_CACHE_SECONDS + 60)
    except Exception as error:  # the change is saved; the cache cannot hear of it
        logger.error(
            "The cache is unavailable, so pages cached before this change may be served until "
            "they expire (NEWSROOM_CACHE_SECONDS): %s",
            error,
        )


def is_current(keys, clock):
    """True when none of `keys` was invalidated after `clock` was read."""
    invalidated = quietly(cache.get_many, [invalidation_key(key) for key in keys])
    return invalidated is not None and all(value <= clock for value in invalidated.values())


def next_change_time():
    """
    The next time public pages change with no write to announce it: a scheduled
    publication, a front-page slot's end, a breaking-news banner's start or end.
    """
    from ..models import Article, BreakingNews, FrontPageSlot

    now = timezone.now()
    times = [
        Article.objects.scheduled().order_by("published_at").values_list("published_at", flat=True).first(),
        FrontPageSlot.objects.filter(until__gt=now).aggregate(next=Min("until"))["next"],
        *BreakingNews.objects.aggregate(
            start=Min("starts_at", filter=Q(starts_at__gt=now)), end=Min("ends_at", filter=Q(ends_at__gt=now))
        ).values(),
    ]
    return min((time for time in times if time is not None), default=None)


def page_expiry():
    """
    The next change nobody announces (next_change_time(): a scheduled
    publication, a front-page slot's or banner's end), as the Unix times a page
    rendered from now on must expire by: (here, in shared caches); (None, None)
    when there is none. Read before rendering, so a change that comes while the
    page renders is never outlived.

    Shared caches see s-maxage, so for them the expiry is the start of the
    SHARED_EXPIRY_GRID slot holding that publication: the header does not tell
    anyone the second an embargoed story goes out, and a repeated request
    cannot narrow it down (every response in a slot gives the same expiry).
    """
    upcoming = next_change_time()
    if upcoming is None:
        return None, None
    change = int(upcoming.timestamp())
    return change, change - change % SHARED_EXPIRY_GRID


def seconds_until(expiry, now):
    """NEWSROOM_CACHE_SECONDS, or fewer to end by `expiry` (a Unix time, or None)."""
    seconds = settings.NEWSROOM_CACHE_SECONDS
    return seconds if expiry is None else max(0, min(seconds, expiry - now))


@dataclass
class StoredPage:
    content: bytes
    headers: list
    etag: str
    last_modified: int
    keys: list
    clock: int  # read before rendering
    expires: int
    shared_expires: int = 0  # s-maxage's end (page_expiry); 0 in pages stored before it existed


def has_private_cookies(request):
    return settings.SESSION_COOKIE_NAME in request.COOKIES or "messages" in request.COOKIES


def is_private_request(request):
    """An editor or any logged-in user (or anyone with a session or flash messages): never cached."""
    if has_private_cookies(request):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def page_key(request, parameters):
    """
    The page's URL with only the query `parameters` its view reads (as the view
    reads them: the last value of each), in a fixed order: `?utm_source=...`
    or `?page=2&x=1` cannot make new entries for the same page.
    """
    query = urlencode([(name, request.GET[name]) for name in sorted(parameters) if name in request.GET])
    url = f"{request.scheme}://{request.get_host()}{request.path}?{query}"
    return f"newsroom:page:{hashlib.sha256(url.encode()).hexdigest()}"


def cached_view_parameters(request):
    """The query parameters of the cached view this request goes to; None when it goes to no cached view."""
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return None
    return getattr(match.func, "page_parameters", None)


def shared_headers(response, keys, timeout):
    """Browsers revalidate every time (a cheap 304); shared caches keep the page until purged or `timeout`."""
    patch_cache_control(response, public=True, max_age=0, must_revalidate=True, s_maxage=timeout)
    if keys:
        for header in KEY_HEADERS:
            response[header] = " ".join(keys)
        response["Cache-Tag"] = ",".join(keys)
    return response


def conditional(request, response, page, timeout):
    response["ETag"] = page.etag
    response["Last-Modified"] = http_date(page.last_modified)
    shared_headers(response, page.keys, timeout)
    return get_conditional_response(request, etag=page.etag, last_modified=page.last_modified, response=response)


def find_page(request):
    """
    (key, page, current) for a request to a cached view: this worker's copy of
    the page, or the shared one when this worker's is missing or stale; page is
    None when neither exists. None for a request to no cached view.
    """
    parameters = cached_view_parameters(request)
    if parameters is None:
        return None
    key = page_key(request, parameters)
    local_pages = caches["local_pages"]
    page = local_pages.get(key)
    if page is not None and is_current(page.keys, page.clock):
        return key, page, True
    shared = quietly(cache.get, key)
    if shared is not None:
        local_pages.set(key, shared, timeout=max(1, shared.expires - int(time.time())))
        page = shared
    return key, page, page is not None and is_current(page.keys, page.clock)


def claim_render(key):
    """True for the one request that renders a stale page again; the others serve the stale copy meanwhile."""
    return quietly(cache.add, f"{key}:rendering", 1, timeout=RENDER_CLAIM_SECONDS, default=True)


def release_render(key):
    quietly(cache.delete, f"{key}:rendering")


def page_response(request, page):
    content = page.content
    if NONCE_PLACEHOLDER in content:
        content = content.replace(NONCE_PLACEHOLDER, str(get_nonce(request)).encode())
    response = HttpResponse(content)
    for name, value in page.headers:
        response[name] = value
    patch_vary_headers(response, ("Cookie",))  # as the page rendered for an anonymous reader had it
    return response


def respond(request, page):
    return conditional(request, page_response(request, page), page, max(0, page.shared_expires - int(time.time())))


def respond_stale(request, page):
    """The stale copy, while another request renders the page again: for this reader only, stored by no one."""
    response = page_response(request, page)
    add_never_cache_headers(response)
    return response


class PageCacheMiddleware:
    """
    Answers an anonymous reader's GET or HEAD from the page cache before the
    middleware such a hit does not need (sessions, CSRF, auth, messages) and URL
    resolving. Placed after the CSP middleware, so a hit gets its own nonce.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if enabled() and request.method in ("GET", "HEAD") and not has_private_cookies(request):
            found = find_page(request)
            if found is not None:
                key, page, current = found
                if current:
                    return respond(request, page)
                if page is not None:
                    if not claim_render(key):
                        return respond_stale(request, page)
                    try:
                        return self.get_response(request)
                    finally:
                        release_render(key)
        return self.get_response(request)


def is_storable(request, response):
    cache_control = response.get("Cache-Control", "")
    return (
        request.method == "GET"
        and response.status_code == 200
        and not getattr(response, "streaming", False)
        and not response.cookies
        and "private" not in cache_control
        and "no-store" not in cache_control
    )


def cache_public_page(view=None, *, keys=(), instances=True, parameters=()):
    """
    Store a public view's pages for anonymous readers, with the keys they show:
    `keys` for the lists the view is, plus what it loads (unless `instances` is off,
    for pages listing the whole site, which name their own list key). Pages are
    stored by URL with only the query parameters the view reads: `parameters`
    and a class-based view's `query_parameters`. With no cache at all (the
    embedded default), pages still get an ETag, for 304s.
    """
    if view is None:
        return functools.partial(cache_public_page, keys=keys, instances=instances, parameters=parameters)
    parameters = (*parameters, *getattr(getattr(view, "view_class", view), "query_parameters", ()))

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        caching = enabled() or purge.enabled()
        if is_private_request(request):
            response = view(request, *args, **kwargs)
            if caching:
                add_never_cache_headers(response)
            return response

        clock = quietly(read_clock) if enabled() else None  # before rendering: changes from now on make it stale
        # Before rendering too: publications from now on are not on it.
        expires, shared_expires = page_expiry() if caching else (None, None)
        with page_keys.collecting(*keys, instances=instances) as shown:
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        if is_private_request(request):  # the view logged someone in, or left a message
            if caching:
                add_never_cache_headers(response)
            return response
        if not is_storable(request, response):
            return response

        content = response.content
        nonce = get_nonce(request)
        if nonce:  # each hit gets its own request's nonce
            content = content.replace(str(nonce).encode(), NONCE_PLACEHOLDER)
        page = StoredPage(
            content=content,
            headers=[(name, value) for name, value in response.items() if name.lower() not in UNSTORED_HEADERS],
            etag=f'"{hashlib.sha256(content).hexdigest()[:32]}"',
            last_modified=parse_http_date_safe(response.get("Last-Modified", "")) or int(time.time()),
            keys=sorted(shown.keys),
            clock=clock,
            expires=0,
        )
        if not caching:
            # No cache keeps it, but a reader's browser may revalidate its copy: a 304 saves the transfer.
            response["ETag"] = page.etag
            patch_cache_control(response, public=True, max_age=0, must_revalidate=True)
            return get_conditional_response(request, etag=page.etag, response=response)
        if shown.changes_at is not None:  # what it shows changes with time alone (the news sitemap's window)
            edge = int(shown.changes_at.timestamp())
            shared_edge = edge - edge % SHARED_EXPIRY_GRID
            expires = edge if expires is None else min(expires, edge)
            shared_expires = shared_edge if shared_expires is None else min(shared_expires, shared_edge)
        now = int(time.time())
        timeout, shared_timeout = seconds_until(expires, now), seconds_until(shared_expires, now)
        if enabled() and clock is not None:
            if timeout > 0 and is_current(page.keys, clock):
                page.expires, page.shared_expires = now + timeout, now + shared_timeout
                key = page_key(request, parameters)
                quietly(cache.set, key, page, timeout=timeout)
                caches["local_pages"].set(key, page, timeout=timeout)
            else:
                shared_timeout = 0  # what it shows changed while it rendered: no shared cache may keep it
        return conditional(request, response, page, shared_timeout)

    wrapper.page_parameters = parameters
    return wrapper
