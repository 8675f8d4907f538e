"""
Varnish in front of the site: a real varnishd running varnish/default.vcl in
front of a real gunicorn with production settings, on a database of the
engine the tests run on. Editors work through the admin over HTTP, through
Varnish, as they would in production; readers are anonymous requests.

The VCL's own rules (what is kept, what passes, who may purge, the purge
race) are tested against a small scripted backend, where each response's
headers and timing are chosen by the test.
"""

import json
import os
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import lxml.html
import pytest
import requests

from articles.caching import purge as purge_module
from varnish.run import varnishd

from .servers import free_port, gunicorn, manage, scratch_database, server_env

VISIBLE_WITHIN = 1.0  # seconds from the save's response until readers get the new page
EDITOR_PASSWORD = "varnish-test-editor"


def session():
    s = requests.Session()
    s.trust_env = False  # no proxy from the environment: everything here is on 127.0.0.1
    return s


# The site behind Varnish ---------------------------------------------------------------------------


SETUP = """
import json
from django.contrib.auth.models import User
from articles.models import Article, PreviewLink
User.objects.create_superuser("editor", "editor@example.com", {password!r})
published = list(Article.objects.published().newest_first()[:3])
template = published[0]
drafts = []
for n in range(2):
    draft = Article.objects.create(
        headline=f"Varnish test draft {{n}}", slug=f"varnish-test-draft-{{n}}", standfirst="Not yet.",
        body="<p>Draft body.</p>", section=template.section, credit="Newsroom staff", status=Article.Status.DRAFT,
        published_at=template.published_at, publication_time_chosen=True,
    )
    drafts.append(draft)
link = PreviewLink.objects.create(article=drafts[1])
print(json.dumps({{
    "published": [{{"pk": a.pk, "url": a.get_absolute_url(), "headline": a.headline}} for a in published],
    "drafts": [{{"pk": d.pk, "url": d.get_absolute_url(), "headline": d.headline}} for d in drafts],
    "preview_link": link.get_absolute_url(),
}}))
"""


class Site:
    def __init__(self, port, backend_port, access_log, content):
        self.base = f"http://127.0.0.1:{port}"
        self.backend_base = f"http://127.0.0.1:{backend_port}"
        self.access_log = access_log
        self.content = content
        self.reader = session()

    def get(self, path, client=None):
        return (client or self.reader).get(f"{self.base}{path}", timeout=15, allow_redirects=False)

    def backend_requests(self, path):
        """How many times gunicorn was asked for `path` (its access log, written just after each response)."""
        time.sleep(0.3)
        return sum(f'"GET {path} HTTP' in line for line in self.access_log.read_text().splitlines())

    def editor(self):
        return Editor(self)


def form_values(html, form_id):
    """What a browser submits from the form: every field, no buttons, no files."""
    form = lxml.html.fromstring(html).get_element_by_id(form_id)
    return list(form.form_values())


class Editor:
    """An editor logged in to the admin through Varnish, changing articles with the change form."""

    def __init__(self, site):
        self.site = site
        self.http = session()
        page = self.http.get(f"{site.base}/admin/login/", timeout=15)
        data = dict(form_values(page.text, "login-form")) | {"username": "editor", "password": EDITOR_PASSWORD}
        response = self.http.post(f"{site.base}/admin/login/", data=data, allow_redirects=False, timeout=15)
        assert response.status_code == 302, response.text[:2000]
        assert "sessionid" in self.http.cookies

    def get(self, path):
        return self.site.get(path, client=self.http)

    def change(self, pk, changes, *, add_correction=None):
        """Post the article's change form with `changes` (and a new correction); when the response arrived."""
        url = f"{self.site.base}/admin/articles/article/{pk}/change/"
        page = self.http.get(url, timeout=15)
        assert page.status_code == 200
        data = [(name, value) for name, value in form_values(page.text, "article_form") if name not in changes]
        data += list(changes.items())
        if add_correction:  # a new form in the corrections inline, as "Add another" makes one
            index = int(dict(data)["corrections-TOTAL_FORMS"])
            data = [(name, str(index + 1) if name == "corrections-TOTAL_FORMS" else value) for name, value in data]
            data += [(f"corrections-{index}-kind", "correction"), (f"corrections-{index}-text", add_correction)]
            data += [(f"corrections-{index}-article", str(pk))]
        button = [] if "_publish" in changes else [("_save", "Save")]
        response = self.http.post(url, data=[*data, *button], allow_redirects=False, timeout=15)
        saved = time.monotonic()
        assert response.status_code == 302, re.findall(r'<ul class="errorlist[^>]*>.*?</ul>', response.text)
        return saved

    def unpublish(self, pk):
        """Unpublish from the form's confirmation page; when the response arrived."""
        url = f"{self.site.base}/admin/articles/article/{pk}/unpublish/"
        page = self.http.get(url, timeout=15)
        assert page.status_code == 200 and "Readers will no longer see" in page.text
        data = form_values(page.text, "publishing-confirmation")
        response = self.http.post(url, data=data, allow_redirects=False, timeout=15)
        saved = time.monotonic()
        assert response.status_code == 302
        return saved


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("varnish")
    with scratch_database(tmp) as database_url:
        varnish_port = free_port()
        access_log = tmp / "access.log"
        env = server_env(
            tmp,
            database_url,
            NEWSROOM_PURGE_URLS=f"http://127.0.0.1:{varnish_port}",
            # As in production: the page cache behind Varnish is shared by the workers (Redis, .ci/run starts it).
            NEWSROOM_CACHE_PAGES="1",
            REDIS_URL="redis://127.0.0.1:6379/7",
            NEWSROOM_CACHE_KEY_PREFIX=f"test-varnish-{uuid.uuid4().hex[:12]}",
            GUNICORN_ACCESS_LOG=str(access_log),
        )
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "collectstatic", "--noinput", "-v0")
        manage(env, "loaddata", "demo", "-v0")
        output = manage(env, "shell", "-c", SETUP.format(password=EDITOR_PASSWORD))
        content = json.loads(output.strip().splitlines()[-1])
        with gunicorn(tmp, env, workers=2) as (port, _), varnishd(varnish_port, port, workdir=tmp / "varnishd"):
            yield Site(varnish_port, port, access_log, content)


def cached(site, path):
    """Ask twice: the second answer comes from Varnish."""
    site.get(path)
    response = site.get(path)
    assert response.headers["X-Cache"] == "HIT", (path, dict(response.headers))
    return response


def first_seen(site, path, check, saved):
    """Seconds from the save until the first request whose answer passed `check` was sent."""
    while True:
        sent = time.monotonic()
        response = site.get(path)
        if check(response):
            return sent - saved
        assert sent - saved < 10, f"{path} still shows the old content after 10 s: {response.status_code}"
        time.sleep(0.02)


def test_public_pages_are_answered_by_varnish(site):
    article = site.content["published"][0]
    for path in ("/", article["url"], "/feed/rss/", "/corrections/"):
        site.get(path)
        before = site.backend_requests(path)
        for _ in range(5):
            response = site.get(path)
            assert response.status_code == 200
            assert response.headers["X-Cache"] == "HIT"
            assert int(response.headers["Age"]) >= 0
        assert site.backend_requests(path) == before, f"{path}: a hit reached gunicorn"
        # The dependency keys are between the site and its caches.
        for header in ("xkey", "Surrogate-Key", "Cache-Tag"):
            assert header not in response.headers
    # A browser revalidates (max-age=0) and Varnish answers 304 from its copy.
    response = site.get("/")
    again = site.reader.get(f"{site.base}/", headers={"If-None-Match": response.headers["ETag"]}, timeout=15)
    assert again.status_code == 304
    assert again.headers["X-Cache"] == "HIT"


def test_other_cookies_do_not_split_or_bypass_the_cache(site):
    cached(site, "/")
    client = session()
    client.cookies.set("csrftoken", "x" * 32)
    client.cookies.set("_analytics", "1")
    assert site.get("/", client=client).headers["X-Cache"] == "HIT"


def test_the_admin_health_check_and_search_forms_are_not_kept(site):
    for path in ("/healthz", "/admin/login/"):
        site.get(path)
        assert site.get(path).headers["X-Cache"] == "PASS"


def test_an_edit_is_visible_through_varnish_within_a_second(site):
    article = site.content["published"][1]
    cached(site, article["url"])
    cached(site, "/")
    headline = "Varnish test: an edited headline"
    saved = site.editor().change(article["pk"], {"headline": headline})
    for path in (article["url"], "/"):
        assert first_seen(site, path, lambda r: headline in r.text, saved) <= VISIBLE_WITHIN
        assert headline in cached(site, path).text


def test_a_publication_is_visible_through_varnish_within_a_second(site):
    draft = site.content["drafts"][0]
    assert site.get(draft["url"]).status_code == 404
    cached(site, "/")
    # The draft's publication time was chosen, in the past: publishing keeps it, and its address.
    saved = site.editor().change(draft["pk"], {"_publish": "Publish"})
    shown = lambda r: r.status_code == 200 and draft["headline"] in r.text  # noqa: E731
    assert first_seen(site, draft["url"], shown, saved) <= VISIBLE_WITHIN
    assert first_seen(site, "/", lambda r: draft["headline"] in r.text, saved) <= VISIBLE_WITHIN


def test_a_correction_is_visible_through_varnish_within_a_second(site):
    article = site.content["published"][2]
    cached(site, article["url"])
    cached(site, "/corrections/")
    note = "An earlier version of this article misspelt the varnish."
    saved = site.editor().change(article["pk"], {}, add_correction=note)
    for path in (article["url"], "/corrections/"):
        assert first_seen(site, path, lambda r: note in r.text, saved) <= VISIBLE_WITHIN


def test_an_unpublished_article_is_gone_through_varnish_within_a_second(site):
    article = site.content["published"][0]
    cached(site, article["url"])
    cached(site, "/")
    saved = site.editor().unpublish(article["pk"])
    assert first_seen(site, article["url"], lambda r: r.status_code == 404, saved) <= VISIBLE_WITHIN
    assert first_seen(site, "/", lambda r: article["headline"] not in r.text, saved) <= VISIBLE_WITHIN


def test_a_draft_is_never_in_varnish(site):
    draft = site.content["drafts"][1]
    editor = site.editor()
    # The editor reads the draft in the admin and through the preview link, through Varnish.
    for path in (f"/admin/articles/article/{draft['pk']}/change/", site.content["preview_link"]):
        for _ in range(2):
            response = editor.get(path)
            assert response.status_code == 200
            assert response.headers["X-Cache"] == "PASS"
    # Anyone holding the preview link gets the draft from the site itself, every time.
    for _ in range(2):
        response = site.get(site.content["preview_link"])
        assert response.status_code == 200 and draft["headline"] in response.text
        assert response.headers["X-Cache"] == "PASS"
        assert "no-store" in response.headers["Cache-Control"]
    # Its public URL is a 404 the site gives every time; the lists never show it.
    for _ in range(2):
        response = site.get(draft["url"])
        assert response.status_code == 404
        assert response.headers["X-Cache"] != "HIT"
    for path in ("/", "/feed/rss/"):
        assert draft["headline"] not in site.get(path).text


def test_an_editors_request_is_never_answered_from_varnish(site):
    article = site.content["published"][1]
    editor = site.editor()
    for path in ("/", article["url"], "/feed/rss/"):
        cached(site, path)
        before = site.backend_requests(path)
        for _ in range(2):
            response = editor.get(path)
            assert response.status_code == 200
            assert response.headers["X-Cache"] == "PASS"
            assert "private" in response.headers["Cache-Control"]
        assert site.backend_requests(path) == before + 2
        # ... nor kept for readers.
        assert site.get(path).headers["X-Cache"] == "HIT"


# The VCL against a scripted backend --------------------------------------------------------------


class ScriptedBackend(ThreadingHTTPServer):
    """Answers GET /<anything> with the headers, delay and body the test set in `script[path]`."""

    daemon_threads = True

    def __init__(self):
        self.script = {}
        self.requests = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(handler):  # noqa: N805
                self.requests.append((handler.path, dict(handler.headers)))
                entry = self.script.get(handler.path.split("?")[0], {})
                time.sleep(entry.get("delay", 0))
                body = entry.get("body", f"{handler.path} {len(self.requests)}").encode()
                handler.send_response(entry.get("status", 200))
                for name, value in entry.get("headers", {}).items():
                    handler.send_header(name, value)
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)

            def log_message(handler, *args):  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    def asked(self, path):
        return sum(p == path for p, _ in self.requests)


PUBLIC = {"Cache-Control": "public, max-age=0, must-revalidate, s-maxage=300", "xkey": "all menu page-1"}
TOKEN = "purge-secret-for-tests"


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    backend = ScriptedBackend()
    thread = threading.Thread(target=backend.serve_forever, daemon=True)
    thread.start()
    port = free_port()
    env = {**os.environ, "NEWSROOM_PURGE_TOKEN": TOKEN}
    try:
        with varnishd(port, backend.server_address[1], workdir=tmp_path_factory.mktemp("vcl"), env=env):
            yield backend, f"http://127.0.0.1:{port}"
    finally:
        backend.shutdown()


def purge_request(base, keys, **headers):
    return session().request("PURGE", f"{base}/", headers={"xkey-purge": keys, **headers}, timeout=5)


def test_vcl_keeps_what_the_site_marks_public_and_purges_by_key(scripted):
    backend, base = scripted
    backend.script["/public"] = {"headers": PUBLIC}
    backend.script["/other"] = {"headers": {**PUBLIC, "xkey": "all menu page-2"}}
    http = session()
    assert http.get(f"{base}/public").headers["X-Cache"] == "MISS"
    assert http.get(f"{base}/other").headers["X-Cache"] == "MISS"
    response = http.get(f"{base}/public")
    assert response.headers["X-Cache"] == "HIT" and backend.asked("/public") == 1
    assert "xkey" not in response.headers
    assert purge_request(base, "page-1").status_code == 200
    assert http.get(f"{base}/public").headers["X-Cache"] == "MISS"
    assert http.get(f"{base}/other").headers["X-Cache"] == "HIT"  # another key: still kept
    purge_request(base, "all")
    assert http.get(f"{base}/other").headers["X-Cache"] == "MISS"


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no Cache-Control: the site did not say
        {"Cache-Control": "private, no-store"},
        {"Cache-Control": "no-cache"},
        {**PUBLIC, "Set-Cookie": "sessionid=abc"},
    ],
    ids=["no-cache-control", "private", "no-cache", "set-cookie"],
)
def test_vcl_keeps_nothing_the_site_did_not_allow(scripted, headers):
    backend, base = scripted
    path = f"/not-kept-{len(backend.requests)}"
    backend.script[path] = {"headers": headers}
    for _ in range(3):
        assert session().get(f"{base}{path}").headers["X-Cache"] != "HIT"
    assert backend.asked(path) == 3


@pytest.mark.parametrize(
    ("path", "cookies", "headers"),
    [
        ("/admin/", {}, {}),
        ("/preview/abc/", {}, {}),
        ("/healthz", {}, {}),
        ("/page", {"sessionid": "abc"}, {}),
        ("/page", {"messages": "abc"}, {}),
        ("/page", {}, {"Authorization": "Basic ZTpw"}),
    ],
)
def test_vcl_passes_personal_requests(scripted, path, cookies, headers):
    backend, base = scripted
    backend.script[path.split("?")[0]] = {"headers": PUBLIC}
    session().get(f"{base}{path}")  # cached for readers, if it could be
    http = session()
    for name, value in cookies.items():
        http.cookies.set(name, value)
    before = backend.asked(path)
    response = http.get(f"{base}{path}", headers=headers)
    assert response.headers["X-Cache"] == "PASS"
    assert backend.asked(path) == before + 1
    if cookies:  # the site sees the editor's cookies
        assert all(f"{name}=" in backend.requests[-1][1]["Cookie"] for name in cookies)


def test_vcl_strips_other_cookies_from_public_requests(scripted):
    backend, base = scripted
    backend.script["/reader"] = {"headers": PUBLIC}
    http = session()
    http.cookies.set("csrftoken", "x")
    http.get(f"{base}/reader")
    assert "Cookie" not in backend.requests[-1][1]


def test_vcl_purges_only_from_this_machine_or_with_the_token(scripted):
    _, base = scripted
    assert purge_request(base, "all").status_code == 200
    # Relayed by a proxy on this machine: not this machine's purge.
    relayed = {"X-Forwarded-For": "203.0.113.9"}
    assert purge_request(base, "all", **relayed).status_code == 403
    assert purge_request(base, "all", **relayed, **{"X-Purge-Token": "wrong"}).status_code == 403
    assert purge_request(base, "all", **relayed, **{"X-Purge-Token": TOKEN}).status_code == 200
    assert session().request("PURGE", f"{base}/", timeout=5).status_code == 400


def test_vcl_does_not_keep_a_slow_page_fetched_across_a_purge(scripted):
    """The race: a render that began before a change committed arrives after both of the change's purges."""
    backend, base = scripted
    backend.script["/slow"] = {"headers": PUBLIC, "delay": 1.0, "body": "old"}
    slow = threading.Thread(target=lambda: session().get(f"{base}/slow"))
    slow.start()
    time.sleep(0.4)  # the fetch is under way; the change commits and purges
    backend.script["/slow"] = {"headers": PUBLIC, "body": "new"}
    assert purge_request(base, "page-1").status_code == 200
    slow.join()
    response = session().get(f"{base}/slow")
    assert response.text == "new"
    assert response.headers["X-Cache"] == "MISS"
    assert session().get(f"{base}/slow").headers["X-Cache"] == "HIT"


def test_the_second_purge_drops_a_quick_page_fetched_across_the_first(scripted, settings):
    """The race, quicker: Varnish keeps the old page, and purge()'s second purge drops it within REPEAT_AFTER."""
    backend, base = scripted
    settings.NEWSROOM_PURGE_URLS = [base]
    settings.NEWSROOM_PURGE_TOKEN = ""
    backend.script["/quick"] = {"headers": PUBLIC, "delay": 0.3, "body": "old"}
    quick = threading.Thread(target=lambda: session().get(f"{base}/quick"))
    quick.start()
    time.sleep(0.1)
    backend.script["/quick"] = {"headers": PUBLIC, "body": "new"}
    purged = time.monotonic()
    purge_module.purge({"page-1"})
    quick.join()
    assert session().get(f"{base}/quick").text == "old"  # kept: it arrived after the first purge
    time.sleep(max(0, purged + purge_module.REPEAT_AFTER + 0.2 - time.monotonic()))
    assert session().get(f"{base}/quick").text == "new"


# purge() itself ----------------------------------------------------------------------------------


def test_purge_sends_the_keys_to_every_configured_cache(scripted, settings):
    backend, base = scripted
    backend.script["/purged"] = {"headers": PUBLIC}
    session().get(f"{base}/purged")
    settings.NEWSROOM_PURGE_URLS = f"{base}, http://127.0.0.1:{free_port()}"  # the second is down
    settings.NEWSROOM_PURGE_TOKEN = ""
    purge_module.purge({"page-1", "article-12"})
    assert session().get(f"{base}/purged").headers["X-Cache"] == "MISS"


def test_purge_failures_are_logged_not_raised(settings, caplog):
    settings.NEWSROOM_PURGE_URLS = [f"http://127.0.0.1:{free_port()}"]
    purge_module.purge({"home"})
    assert "Could not purge 1 keys (home)" in caplog.text


def test_purge_sends_many_keys_in_batches(scripted, settings):
    backend, base = scripted
    keys = {f"article-{n}" for n in range(1000)}
    backend.script["/many"] = {"headers": {**PUBLIC, "xkey": "article-999"}}
    session().get(f"{base}/many")
    settings.NEWSROOM_PURGE_URLS = [base]
    purge_module.purge(keys)
    assert session().get(f"{base}/many").headers["X-Cache"] == "MISS"


def test_purge_repeats_later_for_caches_that_cannot_close_the_race(monkeypatch, settings):
    sent = []

    class CDN(purge_module.VarnishCache):
        repeat_after = 0.2

        def purge(self, keys):
            sent.append((time.monotonic(), keys))

    monkeypatch.setitem(purge_module.KINDS, "cdn", CDN)
    settings.NEWSROOM_PURGE_URLS = ["cdn://example"]
    start = time.monotonic()
    purge_module.purge({"home"})
    time.sleep(0.5)
    assert [keys for _, keys in sent] == [{"home"}, {"home"}]
    assert sent[1][0] - start >= 0.2
