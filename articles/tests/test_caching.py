"""
The page cache (articles/caching.py): a hit costs no SQL, headers and 304s,
nothing private is cached, and every change a reader can see refreshes the
pages at once, including across two server processes sharing one Redis.
"""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articles import caching
from articles.models import Article, Correction, Related
from articles.services import publish_articles, unpublish_articles

from .factories import make_article, make_author, make_image, make_section

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
    urls = pages(story) + [reverse("articles:search") + "?q=comet", "/robots.txt", reverse("articles:corrections")]
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
    assert "public" in control and "max-age=60" in control and "stale-while-revalidate=30" in control
    assert f"s-maxage={settings.NEWSROOM_CACHE_SECONDS}" in control
    etag, last_modified = response["ETag"], response["Last-Modified"]
    hit = client.get(url)
    assert hit["ETag"] == etag and hit["Last-Modified"] == last_modified
    # A hit is answered early (PageCacheMiddleware) with the headers the rendered page had.
    for header in ("Vary", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
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
        assert caching.NONCE_PLACEHOLDER not in response.content


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
    make_section("Nowhere", slug="nowhere")
    assert client.get("/section/nowhere/").status_code == 200


def test_page_cache_off(client, story, settings):
    settings.NEWSROOM_CACHE_PAGES = False
    url = story["article"].get_absolute_url()
    client.get(url)
    response = client.get(url)
    assert "ETag" not in response
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    assert len(captured) > 0


def edit_headline(story):
    story["article"].headline = "Comet renamed"
    story["article"].save()
    return "Comet renamed"


def publish_new(story):
    make_article(days=-0.5, headline="Fresh news", section=story["section"], tags=["space"], authors=[story["author"]])
    return "Fresh news"


def publish_draft_now(story):
    draft = make_article(days=-0.5, headline="Was a draft", status=Article.Status.DRAFT, section=story["section"])
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


@pytest.fixture(params=["pages", "fragments"])
def cache_mode(request, settings):
    """Whole pages cached (with their fragments), or the page cache off and only the fragments cached."""
    settings.NEWSROOM_CACHE_PAGES = request.param == "pages"
    settings.NEWSROOM_CACHE_FRAGMENTS = True
    return request.param


@pytest.mark.parametrize(("change", "where"), CHANGES, ids=[change.__name__ for change, _ in CHANGES])
def test_each_change_refreshes_the_pages_at_once(client, story, change, where, cache_mode):
    url = story["article"].get_absolute_url() if where == "article" else reverse("articles:home")
    before = warm(client, pages(story))
    expected = change(story)
    assert expected.encode() not in before[url]
    assert expected.encode() in client.get(url).content


def test_neighbours_and_related_lists_refresh_at_once(client, story, cache_mode):
    """The article page's previous/next and related fragment follows every change to the articles it shows."""
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


def test_the_section_menu_refreshes_at_once(client, story, cache_mode):
    section_url = story["section"].get_absolute_url()
    page = warm(client, [reverse("articles:home"), section_url])
    assert b'aria-current="page">Science<' in page[section_url]
    assert b'aria-current="page"' not in page[reverse("articles:home")]
    make_section("Weather")
    assert b">Weather</a>" in client.get(reverse("articles:home")).content
    assert b">Weather</a>" in client.get(section_url).content


def test_a_section_tag_or_author_page_follows_its_scope(client, story, cache_mode):
    """The section, tag or author a list page is about is shared too: renamed, created, it shows at once."""
    section_url = story["section"].get_absolute_url()
    assert b"Science" in warm(client, [section_url])[section_url]
    story["section"].name = "Science and space"
    story["section"].save()
    assert b"Science and space" in client.get(section_url).content
    assert client.get("/section/weather/").status_code == 404
    assert client.get("/section/weather/").status_code == 404  # a cached absence
    make_section("Weather", slug="weather")
    assert client.get("/section/weather/").status_code == 200


def test_fragments_keep_the_page_queries_to_its_own_content(client, story, settings, django_assert_num_queries):
    """With the page cache off, a warm page still queries its own article or list, not the shared parts."""
    settings.NEWSROOM_CACHE_PAGES = False
    article_url = story["article"].get_absolute_url()
    expected = {
        # the article, its byline, tags and corrections (no previous/next, related or section menu)
        article_url: 4,
        # the page of articles and their bylines (no section menu)
        reverse("articles:home"): 2,
        # a tag's page of articles and their bylines (not the tag itself)
        reverse("articles:tag", args=["space"]): 2,
        reverse("articles:section", args=[story["section"].slug]): 2,
        reverse("articles:author", args=[story["author"].slug]): 2,
        reverse("articles:archive"): 0,
    }
    for url, queries in expected.items():
        first = client.get(url)
        with django_assert_num_queries(queries):
            again = client.get(url)
        assert without_nonce(again) == without_nonce(first), url


def test_fragments_follow_the_next_scheduled_publication(client, story, settings):
    """A fragment is kept no longer than a page: never past the next scheduled publication."""
    settings.NEWSROOM_CACHE_PAGES = False
    start = datetime.now(UTC)
    make_article(days=0, headline="Embargoed until noon", published_at=start + timedelta(minutes=5), tags=["space"])
    url = story["article"].get_absolute_url()
    with time_machine.travel(start, tick=False):
        assert b"Embargoed until noon" not in client.get(url).content
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        assert b"Embargoed until noon" in client.get(url).content


def test_without_its_cache_the_site_still_serves_and_saves(client, story, cache_mode, caplog):
    """The cache server down (nothing listens on its port): pages are built without it, edits still save."""
    down = {
        **settings.CACHES,
        "default": {
            "BACKEND": "newsroom.redis_cache.RedisCache",
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
            assert "ETag" not in response  # not cached, so no validators to promise
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


def test_the_redis_backend_keeps_its_client():
    """newsroom/redis_cache.py: one redis-py client per connection pool, not one per call; still a cache."""
    from django.core.cache import caches

    redis_cache = {
        "BACKEND": "newsroom.redis_cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/7",
        "KEY_PREFIX": f"test-{uuid.uuid4().hex[:12]}",
    }
    with override_settings(CACHES={**settings.CACHES, "default": redis_cache}):
        backend = caches["default"]
        assert backend._cache.get_client() is backend._cache.get_client(write=True)
        backend.set("answer", {"pages": 42}, timeout=10)
        assert backend.get("answer") == {"pages": 42}
        assert backend.get_many(["answer", "missing"]) == {"answer": {"pages": 42}}
        backend.delete("answer")
        assert backend.get("answer") is None


def test_unpublishing_refreshes_lists_and_neighbours(client, story, cache_mode):
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
    generation = caching.get_generation()
    image.renditions.first().delete()
    assert caching.get_generation() > generation


def test_loaddata_refreshes_the_pages(client):
    home = reverse("articles:home")
    warm(client, [home])
    generation = caching.get_generation()
    call_command("loaddata", str(ROOT / "fixtures" / "demo.json"), verbosity=0)
    assert caching.get_generation() > generation


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


def test_generation_survives_a_lost_key():
    from django.core.cache import cache

    first = caching.get_generation()
    caching.bump_generation()
    assert caching.get_generation() == first + 1
    cache.delete(caching.GENERATION_KEY)
    caching.bump_generation()
    assert caching.get_generation() > first + 1  # restarted from the clock, never an old number


# Two server processes sharing one Redis ---------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def strip_nonce(page):
    return re.sub(r'nonce="[^"]*"', "", page)


def fetch(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return response.read().decode()


@pytest.mark.django_db(False)
def test_two_servers_sharing_redis_see_an_edit_at_once(tmp_path, server_database):
    import redis  # a runtime dependency: Django's Redis cache backend uses it

    prefix = f"test-{uuid.uuid4().hex[:12]}"
    redis_url = "redis://127.0.0.1:6379/7"
    client = redis.Redis.from_url(redis_url)
    # Redis must run at 127.0.0.1:6379 (.ci/run starts it when it is not).
    assert client.ping()
    env = {
        **os.environ,
        # One database for both: a SQLite file, or a PostgreSQL database when the tests run on PostgreSQL.
        "DATABASE_URL": server_database,
        "REDIS_URL": redis_url,
        "NEWSROOM_CACHE_KEY_PREFIX": prefix,
        "NEWSROOM_CACHE_PAGES": "1",
        "DJANGO_DEBUG": "0",
        "DJANGO_HTTPS": "0",
        "DJANGO_SECRET_KEY": "two-servers-test-only",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_LOG_LEVEL": "ERROR",
        "NEWSROOM_SERVE_MEDIA": "0",
        # DEBUG off serves hashed static files from a manifest, which collectstatic writes.
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout

    manage("migrate", "-v0")
    manage("collectstatic", "--noinput", "-v0")
    manage("loaddata", "demo", "-v0")
    script = (
        "from articles.models import Article; a = Article.objects.published().newest_first().first(); "
        "print('URL', a.pk, a.get_absolute_url(), a.get_previous_published().get_absolute_url())"
    )
    _, pk, url, previous_url = manage("shell", "-c", script).strip().splitlines()[-1].split()

    servers, logs = [], []
    try:
        ports = [free_port(), free_port()]
        # A caches whole pages; B only the shared fragments, each in its worker's own memory.
        for port, pages_cached in zip(ports, ("1", "0"), strict=True):
            logs.append((tmp_path / f"gunicorn-{port}.log").open("w"))
            servers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "1",
                     "--control-socket", str(tmp_path / f"gunicorn-{port}.ctl"), "newsroom.wsgi"],
                    cwd=ROOT, env={**env, "GUNICORN_ACCESS_LOG": "", "NEWSROOM_CACHE_PAGES": pages_cached},
                    stdout=subprocess.DEVNULL, stderr=logs[-1],
                )
            )  # fmt: skip
        deadline = time.monotonic() + 30
        for port in ports:
            while True:
                try:
                    fetch(port, "/healthz")
                    break
                except OSError:
                    log = (tmp_path / f"gunicorn-{port}.log").read_text()
                    assert time.monotonic() < deadline, f"the server did not start:\n{log}"
                    time.sleep(0.2)

        a, b = ports
        before = fetch(a, url)
        assert strip_nonce(fetch(a, url)) == strip_nonce(before)  # served from the shared cache now
        assert any(client.scan_iter(f"{prefix}:*page*")), "nothing was cached in Redis"
        for path in ("/", previous_url):  # B keeps its fragments: teasers, the neighbour's "next" link
            assert "Edited through another process" not in fetch(b, path)

        edit = (
            f"from articles.models import Article; a = Article.objects.get(pk={pk}); "
            "a.headline = 'Edited through another process'; a.save()"
        )
        manage("shell", "-c", edit)
        assert "Edited through another process" in fetch(a, url)
        assert "Edited through another process" in fetch(b, "/")
        assert "Edited through another process" in fetch(b, previous_url)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        for log in logs:
            log.close()
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
