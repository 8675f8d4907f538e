"""
The page cache (articles/caching/): a hit costs no SQL, headers and 304s,
nothing private is cached, every change a reader can see refreshes the pages
that show it at once (across two server processes sharing one Redis too), and
leaves the pages that do not show it cached.
"""

import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest.mock import patch

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles.caching import keys
from articles.caching import pages as page_cache
from articles.models import Article, Correction, Related
from articles.services import publish_articles, unpublish_articles

from .factories import make_article, make_author, make_image, make_section
from .servers import fetch, free_port, gunicorn, manage, server_env

pytestmark = [pytest.mark.django_db, pytest.mark.page_cache]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def story():
    section = make_section("Science")
    author = make_author("Ada Writer")
    older = make_article(days=-3, headline="Older story", section=section, tags=["space"], authors=[author])
    article = make_article(days=-1, headline="Comet sighted", section=section, tags=["space"], authors=[author])
    return {"section": section, "author": author, "older": older, "article": article}


def pages(story):
    article = story["article"]
    return [
        article.get_absolute_url(),
        story["older"].get_absolute_url(),  # the neighbour: its "next" link shows the article
        reverse("articles:home"),
        reverse("articles:section", args=[story["section"].slug]),
        reverse("articles:tag", args=["space"]),
        reverse("articles:author", args=[story["author"].slug]),
        reverse("articles:latest-rss"),
        "/sitemap.xml",
        "/news-sitemap.xml",
    ]


def warm(client, urls):
    for url in urls:
        assert client.get(url).status_code == 200, url
    return {url: client.get(url).content for url in urls}


def test_a_second_anonymous_request_runs_no_sql(client, story, django_assert_num_queries):
    urls = pages(story) + [
        reverse("articles:search") + "?q=comet",
        "/robots.txt",
        reverse("articles:corrections"),
        reverse("articles:archive"),
    ]
    first = {url: client.get(url) for url in urls}
    for url in urls:
        assert first[url].status_code == 200, url
        with django_assert_num_queries(0):
            again = client.get(url)
        assert again.status_code == 200
        assert again["ETag"] == first[url]["ETag"]
        assert without_nonce(again) == without_nonce(first[url]), url
        assert again["Content-Type"] == first[url]["Content-Type"]


def without_nonce(response):
    """The page with this response's CSP nonce (different on every request) taken out."""
    policy = response.get("Content-Security-Policy", "")
    if "'nonce-" not in policy:
        return response.content
    nonce = policy.split("'nonce-")[1].split("'")[0]
    return response.content.replace(nonce.encode(), b"NONCE")


def test_public_headers_etag_and_304(client, story):
    url = story["article"].get_absolute_url()
    response = client.get(url)
    control = response["Cache-Control"]
    # Browsers revalidate every time (a reload after a correction gets it); shared caches keep it until purged.
    assert "public" in control and "max-age=0" in control and "must-revalidate" in control
    assert f"s-maxage={settings.NEWSROOM_CACHE_SECONDS}" in control
    etag, last_modified = response["ETag"], response["Last-Modified"]
    hit = client.get(url)
    assert hit["ETag"] == etag and hit["Last-Modified"] == last_modified
    # A hit is answered early (PageCacheMiddleware) with the headers the rendered page had.
    for header in ("Vary", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy", "xkey", "Cache-Tag"):
        assert hit[header] == response[header], header
    assert "nonce-" in hit["Content-Security-Policy"]
    assert client.get(url, headers={"if-none-match": etag}).status_code == 304
    assert client.get(url, headers={"if-modified-since": last_modified}).status_code == 304
    assert client.get(url, headers={"if-none-match": '"other"'}).status_code == 200
    assert client.head(url).status_code == 200

    article = story["article"]
    article.headline = "Comet sighted again"
    article.save()
    changed = client.get(url, headers={"if-none-match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_each_hit_gets_its_own_csp_nonce(client, story):
    url = story["article"].get_absolute_url()
    for _ in range(2):
        response = client.get(url)
        nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
        assert f'nonce="{nonce}"'.encode() in response.content
        assert page_cache.NONCE_PLACEHOLDER not in response.content


def test_logged_in_readers_and_editors_are_never_cached(client, story):
    url = story["article"].get_absolute_url()
    client.get(url)  # an anonymous copy is now cached
    editor = User.objects.create_user("editor", password="pw-123456789", is_staff=True, is_superuser=True)
    client.force_login(editor)
    response = client.get(url)
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert "ETag" not in response
    admin = client.get(reverse("admin:articles_article_changelist"))
    assert "no-store" in admin["Cache-Control"] and "private" in admin["Cache-Control"]
    draft = make_article(status=Article.Status.DRAFT)
    preview = client.get(draft.get_absolute_url())
    assert preview.status_code == 200 and "no-store" in preview["Cache-Control"]
    client.logout()
    assert client.get(draft.get_absolute_url()).status_code == 404  # the editor's preview was not cached


def test_health_and_errors_are_not_cached(client, story):
    assert "no-store" in client.get("/healthz")["Cache-Control"]
    assert client.get("/section/nowhere/").status_code == 404
    make_article(section=make_section("Nowhere", slug="nowhere"))
    assert client.get("/section/nowhere/").status_code == 200


def test_page_cache_off(client, story, settings):
    """Nothing is stored (every request renders), but pages still carry an ETag a browser can revalidate."""
    settings.NEWSROOM_CACHE_PAGES = False
    url = story["article"].get_absolute_url()
    client.get(url)
    response = client.get(url)
    assert "s-maxage" not in response["Cache-Control"] and "no-cache" not in response["Cache-Control"]
    assert "xkey" not in response
    with CaptureQueriesContext(connection) as captured:
        again = client.get(url, headers={"if-none-match": response["ETag"]})
    assert len(captured) > 0
    assert again.status_code == 304  # the same page, whatever its CSP nonce
    story["article"].headline = "Comet renamed"
    story["article"].save()
    assert client.get(url, headers={"if-none-match": response["ETag"]}).status_code == 200


def edit_headline(story):
    story["article"].headline = "Comet renamed"
    story["article"].save()
    return "Comet renamed"


def publish_new(story):
    make_article(days=-0.5, headline="Fresh news", section=story["section"], tags=["space"], authors=[story["author"]])
    return "Fresh news"


def publish_draft_now(story):
    draft = make_article(
        days=-0.5, headline="Was a draft", status=Article.Status.DRAFT, section=story["section"], ready=True
    )
    draft.tags.add("space")
    publish_articles(articles=Article.objects.filter(pk=draft.pk), by=None)
    return "Was a draft"


def unpublish(story):
    unpublish_articles(articles=Article.objects.filter(pk=story["older"].pk), by=None)
    return None  # checked below: "Older story" disappears


def add_tag(story):
    story["article"].tags.add("astronomy")
    return "astronomy"


def add_relation(story):
    other = make_article(days=-10, headline="Related history")
    Related.objects.create(article=story["article"], related_article=other, position=0)
    return "Related history"


def add_correction(story):
    Correction.objects.create(article=story["article"], text="An earlier version misnamed the comet.")
    return "misnamed the comet"


def rename_section(story):
    story["section"].name = "Astronomy desk"
    story["section"].save()
    return "Astronomy desk"


def rename_author(story):
    story["author"].name = "Ada Lovelace"
    story["author"].save()
    return "Ada Lovelace"


CHANGES = [
    (edit_headline, "article"),
    (publish_new, "home"),
    (publish_draft_now, "home"),
    (add_tag, "article"),
    (add_relation, "article"),
    (add_correction, "article"),
    (rename_section, "home"),
    (rename_author, "article"),
]


@pytest.mark.parametrize(("change", "where"), CHANGES, ids=[change.__name__ for change, _ in CHANGES])
def test_each_change_refreshes_the_pages_at_once(client, story, change, where):
    url = story["article"].get_absolute_url() if where == "article" else reverse("articles:home")
    before = warm(client, pages(story))
    expected = change(story)
    assert expected.encode() not in before[url]
    assert expected.encode() in client.get(url).content


def test_neighbours_and_related_lists_refresh_at_once(client, story):
    """The article page's previous/next and related links follow every change to the articles it shows."""
    article, older = story["article"], story["older"]
    url = article.get_absolute_url()
    scoped = f"{url}?in=tag:space"
    page = warm(client, [url, scoped])
    assert b"Older story" in page[url] and b"Older story" in page[scoped]
    older.headline = "Older story, retitled"
    older.save()
    assert b"Older story, retitled" in client.get(url).content
    assert b"Older story, retitled" in client.get(scoped).content
    newer = make_article(days=-0.5, headline="Newest in space", tags=["space"])
    assert b"Newest in space" in client.get(url).content  # the new "next" link
    assert b"Newest in space" in client.get(scoped).content
    newer.tags.clear()
    assert b"Newest in space" in client.get(url).content  # still next site-wide...
    assert b"Newest in space" not in client.get(scoped).content  # ...but no longer in the tag


def test_the_section_menu_refreshes_at_once(client, story):
    section_url = story["section"].get_absolute_url()
    page = warm(client, [reverse("articles:home"), section_url])
    assert b'aria-current="page">Science<' in page[section_url]
    assert b'aria-current="page"' not in page[reverse("articles:home")]
    weather = make_section("Weather")
    assert b">Weather</a>" not in client.get(reverse("articles:home")).content  # nothing published in it yet
    make_article(days=1, section=weather)
    assert b">Weather</a>" not in client.get(reverse("articles:home")).content  # scheduled is not published
    make_article(section=weather)
    assert b">Weather</a>" in client.get(reverse("articles:home")).content
    assert b">Weather</a>" in client.get(section_url).content


def test_a_section_tag_or_author_page_follows_its_scope(client, story):
    """The section, tag or author a list page is about is shared too: renamed, created, it shows at once."""
    section_url = story["section"].get_absolute_url()
    assert b"Science" in warm(client, [section_url])[section_url]
    story["section"].name = "Science and space"
    story["section"].save()
    assert b"Science and space" in client.get(section_url).content
    assert client.get("/section/weather/").status_code == 404
    assert client.get("/section/weather/").status_code == 404  # a cached absence
    weather = make_section("Weather", slug="weather")
    assert client.get("/section/weather/").status_code == 404  # nothing published in it yet
    make_article(section=weather)
    assert client.get("/section/weather/").status_code == 200


def test_pages_carry_the_keys_they_show(client, story):
    """The keys go out for HTTP caches too: xkey (Varnish), Surrogate-Key (Fastly), Cache-Tag (Cloudflare)."""
    article, older = story["article"], story["older"]
    space = article.tags.get()
    page = client.get(article.get_absolute_url())
    shown = set(page["xkey"].split())
    assert shown == set(page["Surrogate-Key"].split()) == set(page["Cache-Tag"].split(","))
    assert {
        keys.ALL,
        keys.MENU,
        keys.key("article", article.pk),
        keys.key("teaser", older.pk),  # its "previous" link
        keys.key("tag", space.pk),
        keys.key("author", story["author"].pk),
        *keys.related_keys([space.pk], article.pk),
    } <= shown
    assert not any(key.endswith("-list") for key in shown)  # an article page is no list

    home = set(client.get(reverse("articles:home"))["xkey"].split())
    assert {keys.HOME, keys.key("teaser", article.pk), keys.key("teaser", older.pk)} <= home
    tag_page = set(client.get(reverse("articles:tag", args=["space"]))["xkey"].split())
    assert {f"tag-{space.pk}-list", keys.key("tag", space.pk)} <= tag_page
    sitemap = set(client.get("/sitemap-articles.xml")["xkey"].split())
    assert sitemap == {keys.ALL, keys.MENU, keys.SITEMAPS}  # one key for the whole site's list
    search = set(client.get(reverse("articles:search") + "?q=comet")["xkey"].split())
    assert {keys.SEARCH, keys.key("teaser", article.pk)} <= search


def test_an_edit_leaves_the_pages_that_do_not_show_it_cached(client, story, django_assert_num_queries):
    elsewhere = make_section("Weather")
    rain = make_article(days=-5, headline="Rain all week", section=elsewhere, tags=["rain"])
    unrelated = [
        rain.get_absolute_url(),
        elsewhere.get_absolute_url(),
        reverse("articles:tag", args=["rain"]),
        reverse("articles:author", args=[story["author"].slug]),  # lists the two space stories, not this one
    ]
    warm(client, unrelated + pages(story))
    story["older"].body = "<p>A longer body, read on its own page only.</p>"
    story["older"].save()
    for url in unrelated + [reverse("articles:home"), story["article"].get_absolute_url()]:
        with django_assert_num_queries(0, info=url):
            assert client.get(url).status_code == 200, url
    assert b"A longer body" in client.get(story["older"].get_absolute_url()).content

    story["article"].headline = "Comet renamed"  # shown on lists and its neighbour's page, not on Weather's
    story["article"].save()
    for url in [rain.get_absolute_url(), elsewhere.get_absolute_url(), reverse("articles:tag", args=["rain"])]:
        with django_assert_num_queries(0):
            client.get(url)
    for url in [reverse("articles:home"), story["older"].get_absolute_url(), reverse("articles:latest-rss")]:
        assert b"Comet renamed" in client.get(url).content, url


def test_publishing_refreshes_its_lists_and_new_neighbours_only(client, story, django_assert_num_queries):
    elsewhere = make_section("Weather")
    rain = make_article(days=-5, headline="Rain all week", section=elsewhere, tags=["rain"])
    warm(client, pages(story) + [rain.get_absolute_url(), elsewhere.get_absolute_url()])
    draft = make_article(
        days=-0.5, headline="Tail seen", status=Article.Status.DRAFT, section=story["section"], tags=["space"]
    )
    draft.status = Article.Status.PUBLISHED
    draft.save()
    for url in [elsewhere.get_absolute_url(), rain.get_absolute_url()]:
        with django_assert_num_queries(0):
            client.get(url)
    for url in [
        reverse("articles:home"),
        story["section"].get_absolute_url(),
        reverse("articles:tag", args=["space"]),
        story["article"].get_absolute_url(),  # its "next" link
        f"{story['article'].get_absolute_url()}?in=tag:space",
    ]:
        assert b"Tail seen" in client.get(url).content, url
    assert draft.get_absolute_url().encode() in client.get("/sitemap-articles.xml").content


def test_search_results_follow_any_change_to_a_public_article(client, story, django_assert_num_queries):
    url = reverse("articles:search") + "?q=comet"
    page = warm(client, [url])[url]
    assert story["article"].get_absolute_url().encode() in page and b"Older story" not in page
    draft = make_article(headline="Comet draft", status=Article.Status.DRAFT)
    draft.body = "<p>A draft about the comet.</p>"
    draft.save()
    with django_assert_num_queries(0):  # a draft shows in no results
        client.get(url)
    story["older"].body = "<p>Now the older story mentions the comet too.</p>"
    story["older"].save()
    assert b"Older story" in client.get(url).content


def test_a_page_rendered_while_its_content_changes_is_not_kept(client, story, django_assert_num_queries):
    """The clock is read before rendering: a change committed meanwhile makes the page stale at once."""
    url = story["article"].get_absolute_url()
    storable = page_cache.is_storable

    def change_during_render(*args):
        page_cache.invalidate({keys.key("article", story["article"].pk)})
        return storable(*args)

    with patch.object(page_cache, "is_storable", change_during_render):
        response = client.get(url)
    assert "s-maxage=0" in response["Cache-Control"]  # no shared cache may keep it either
    assert client.get(url).status_code == 200
    with django_assert_num_queries(0):  # the second render was kept
        client.get(url)


def test_what_each_change_invalidates():
    """keys.article_change: the keys computed from an article's placement before and after."""
    section = make_section("Science")
    article = make_article(days=-1, section=section, tags=["space"])
    live = keys.placement(article.pk)
    assert live.is_live and not live.is_scheduled
    space = next(iter(live.tag_ids))
    own = {keys.key("article", article.pk)}
    assert keys.article_change(article.pk, live, live) == own | {keys.SITEMAPS, keys.SEARCH}  # the body, say
    retitled = replace(live, teaser=("Another headline", *live.teaser[1:]))
    teaser = keys.key("teaser", article.pk)
    assert keys.article_change(article.pk, live, retitled) == own | {teaser, keys.SITEMAPS, keys.SEARCH}
    draft = replace(live, is_live=False)
    assert keys.article_change(article.pk, draft, draft) == own  # shows nowhere
    published = keys.article_change(article.pk, draft, live)
    assert {keys.HOME, keys.ARCHIVE, f"section-{section.pk}-list", f"tag-{space}-list", keys.SITEMAPS} <= published
    assert keys.ALL not in published
    moved = replace(live, section_id=None, tag_ids=frozenset())
    assert f"section-{section.pk}-list" in keys.article_change(article.pk, live, moved)  # the list it leaves
    scheduled = replace(live, is_live=False, is_scheduled=True, published_at=live.published_at + timedelta(days=3))
    assert keys.article_change(article.pk, draft, scheduled) == {keys.ALL}  # pages expire at its time now
    assert keys.article_change(article.pk, live, None) >= {keys.HOME, f"tag-{space}-list"}  # deleted


def test_rescheduling_earlier_refreshes_pages_at_the_new_time(client, story):
    start = datetime.now(UTC)
    embargoed = make_article(days=0, headline="Embargoed until noon", published_at=start + timedelta(hours=2))
    home = reverse("articles:home")
    with time_machine.travel(start, tick=False):
        assert b"Embargoed until noon" not in client.get(home).content
        embargoed.published_at = start + timedelta(minutes=5)
        embargoed.save()
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        assert b"Embargoed until noon" in client.get(home).content


def test_an_http_cache_in_front_gets_keys_without_the_page_cache(
    client, story, settings, django_capture_on_commit_callbacks
):
    """With only Varnish or a CDN in front (NEWSROOM_PURGE_URLS), pages carry keys and nothing is stored here."""
    settings.NEWSROOM_CACHE_PAGES = False
    settings.NEWSROOM_PURGE_URLS = ["http://127.0.0.1:9/"]
    url = story["article"].get_absolute_url()
    purged = []
    with patch("articles.caching.purge.purge", purged.append):
        response = client.get(url)
        assert keys.key("article", story["article"].pk) in response["xkey"].split()
        assert f"s-maxage={settings.NEWSROOM_CACHE_SECONDS}" in response["Cache-Control"]
        with django_capture_on_commit_callbacks(execute=True):
            story["article"].headline = "Comet renamed"
            story["article"].save()
    assert purged and keys.key("article", story["article"].pk) in purged[-1]
    assert b"Comet renamed" in client.get(url).content


def test_without_its_cache_the_site_still_serves_and_saves(client, story, caplog):
    """The cache server down (nothing listens on its port): pages are built without it, edits still save."""
    down = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"retry": None},  # fail at once rather than back off
        },
    }
    url = story["article"].get_absolute_url()
    with override_settings(CACHES=down):
        for _ in range(2):
            response = client.get(url)
            assert response.status_code == 200
            assert b"Comet sighted" in response.content and b"Older story" in response.content
        story["article"].headline = "Comet renamed"
        story["article"].save()
        assert b"Comet renamed" in client.get(url).content
        assert client.get("/healthz").status_code == 503
    assert "The cache is unavailable" in caplog.text


def test_a_page_another_worker_rendered_is_served_and_kept(client, story, django_assert_num_queries):
    from django.core.cache import caches

    url = story["article"].get_absolute_url()
    first = client.get(url)
    local_pages = caches["local_pages"]
    local_pages.clear()  # this worker has no copy: only the shared cache has the page
    with django_assert_num_queries(0):
        second = client.get(url)
    assert second["ETag"] == first["ETag"]
    assert len(local_pages._cache) == 1  # copied into this worker's memory for the next hits


def test_unpublishing_refreshes_lists_and_neighbours(client, story):
    home = reverse("articles:home")
    article_url = story["article"].get_absolute_url()
    warm(client, [home, article_url, story["older"].get_absolute_url()])
    assert b"Older story" in client.get(article_url).content  # the previous link
    unpublish(story)
    assert b"Older story" not in client.get(home).content
    assert b"Older story" not in client.get(article_url).content
    assert client.get(story["older"].get_absolute_url()).status_code == 404


def test_editing_an_image_refreshes_the_article(client, story, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    image = make_image(caption="A first caption")
    article = story["article"]
    article.lead_image = image
    article.save()
    url = article.get_absolute_url()
    assert b"A first caption" in warm(client, [url])[url]
    image.caption = "A better caption"
    image.save()
    assert b"A better caption" in client.get(url).content
    rendition = image.renditions.order_by("width").first()
    assert rendition.url.encode() in client.get(url).content
    rendition.delete()
    assert rendition.url.encode() not in client.get(url).content


def test_loaddata_refreshes_the_pages(client):
    home = reverse("articles:home")
    assert b"Oil producers hold output steady" not in warm(client, [home])[home]
    call_command("loaddata", str(ROOT / "fixtures" / "demo.json"), verbosity=0)
    assert b"Oil producers hold output steady" in client.get(home).content


def test_a_scheduled_article_appears_on_time():
    from django.test import Client

    client = Client()
    start = datetime(2031, 5, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        make_article(published_at=start - timedelta(days=1), headline="Already out")
        make_article(published_at=start + timedelta(minutes=2), headline="Embargoed scoop")
        home = reverse("articles:home")
        response = client.get(home)
        assert b"Already out" in response.content and b"Embargoed scoop" not in response.content
        assert "s-maxage=120" in response["Cache-Control"]  # not past the publication
        clock.shift(timedelta(minutes=1, seconds=59))
        assert b"Embargoed scoop" not in client.get(home).content
        clock.shift(timedelta(seconds=1))
        assert b"Embargoed scoop" in client.get(home).content
        assert f"s-maxage={settings.NEWSROOM_CACHE_SECONDS}" in client.get(home)["Cache-Control"]


def test_the_clock_survives_a_lost_key():
    from django.core.cache import cache

    first = page_cache.read_clock()
    page_cache.invalidate({"home"})
    assert page_cache.read_clock() == first + 1
    cache.delete(page_cache.CLOCK_KEY)
    page_cache.invalidate({"home"})
    assert page_cache.read_clock() > first + 1  # restarted from the wall clock, never an old number
    assert not page_cache.is_current(["home"], first)


# Two server processes sharing one Redis ---------------------------------------------------------


def strip_nonce(page):
    return re.sub(r'nonce="[^"]*"', "", page)


def page_text(port, path):
    status, _, body = fetch(port, path, timeout=10)
    assert status == 200, (path, status)
    return body


@pytest.mark.django_db(False)
def test_two_servers_sharing_redis_see_an_edit_at_once(tmp_path, server_database):
    import redis  # a runtime dependency: Django's Redis cache backend uses it

    prefix = f"test-{uuid.uuid4().hex[:12]}"
    redis_url = "redis://127.0.0.1:6379/7"
    client = redis.Redis.from_url(redis_url)
    # Redis must run at 127.0.0.1:6379 (.ci/run starts it when it is not).
    assert client.ping()
    # One database for both: a SQLite file, or a PostgreSQL database when the tests run on PostgreSQL.
    env = server_env(
        tmp_path, server_database, REDIS_URL=redis_url, NEWSROOM_CACHE_KEY_PREFIX=prefix, NEWSROOM_CACHE_PAGES="1"
    )
    manage(env, "migrate", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    manage(env, "loaddata", "demo", "-v0")
    script = (
        "from articles.models import Article; a = Article.objects.published().newest_first().first(); "
        "p, _ = a.get_previous_and_next_published(); print('URL', a.pk, a.get_absolute_url(), p.get_absolute_url())"
    )
    _, pk, url, previous_url = manage(env, "shell", "-c", script).strip().splitlines()[-1].split()
    try:
        # Both cache pages, in Redis and in each worker's own memory.
        with gunicorn(tmp_path, env) as (a, _), gunicorn(tmp_path, env) as (b, _):
            before = page_text(a, url)
            assert strip_nonce(page_text(a, url)) == strip_nonce(before)  # served from the shared cache now
            assert any(client.scan_iter(f"{prefix}:*page*")), "nothing was cached in Redis"
            for path in ("/", previous_url):  # B keeps its copies: the home page, the neighbour's "next" link
                assert "Edited through another process" not in page_text(b, path)
                assert "Edited through another process" not in page_text(b, path)

            edit = (
                f"from articles.models import Article; a = Article.objects.get(pk={pk}); "
                "a.headline = 'Edited through another process'; a.save()"
            )
            manage(env, "shell", "-c", edit)
            assert "Edited through another process" in page_text(a, url)
            assert "Edited through another process" in page_text(b, "/")
            assert "Edited through another process" in page_text(b, previous_url)
    finally:
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)


def test_a_move_makes_its_new_neighbours_in_its_section_and_tags_stale():
    """Found by test_staleness on PostgreSQL: the section and tag scopes were read as the whole site."""
    world = make_section("World", slug="world")
    older = make_article(days=-3, section=world)
    other = make_article(published_at=timezone.now() - timedelta(days=2, hours=1))  # the site's neighbour
    newer = make_article(days=-1, section=world)
    tagged = make_article(days=-4, tags=["Floods"])
    moving = make_article(days=-10, section=world, tags=["Floods"])
    before = keys.placement(moving.pk)
    Article.objects.filter(pk=moving.pk).update(published_at=timezone.now() - timedelta(days=2) + timedelta(hours=1))

    stale = keys.article_change(moving.pk, before, keys.placement(moving.pk))

    assert keys.key("article", other.pk) in stale and keys.key("article", newer.pk) in stale  # in the site
    assert keys.key("article", older.pk) in stale  # its previous in World, not on the site
    assert keys.key("article", tagged.pk) in stale  # its previous under Floods


def test_while_one_request_renders_a_stale_page_the_others_get_the_stale_copy_stored_by_no_one(
    client, story, django_assert_num_queries
):
    from django.core.cache import cache

    url = reverse("articles:home")
    client.get(url)
    story["article"].headline = "Comet renamed"
    story["article"].save()
    key = page_cache.page_key(client.get(url).wsgi_request, ("page",))  # renders and stores the new page
    story["article"].headline = "Comet renamed again"
    story["article"].save()

    cache.set(f"{key}:rendering", 1)  # another worker is rendering the page now
    with django_assert_num_queries(0):
        stale = client.get(url, HTTP_IF_NONE_MATCH="*")
    assert stale.status_code == 200
    assert b"Comet renamed" in stale.content and b"Comet renamed again" not in stale.content
    assert "no-store" in stale["Cache-Control"] and "private" in stale["Cache-Control"]
    assert "s-maxage" not in stale["Cache-Control"] and not stale.has_header("ETag")
    assert not stale.has_header("xkey")

    cache.delete(f"{key}:rendering")  # that render is over (or its claim ran out): the next request renders
    fresh = client.get(url)
    assert b"Comet renamed again" in fresh.content and fresh.has_header("ETag")
    assert cache.get(f"{key}:rendering") is None  # the claim is given back once the page is stored
    with django_assert_num_queries(0):
        assert client.get(url)["ETag"] == fresh["ETag"]
