"""
`make loadtest`: readers and an editor at the same time, through gunicorn and
through Varnish, in one run (phases LOADTEST_PHASES=readers,editor,varnish).

wrk readers on a weighted mix of public pages while an editor changes articles
through the admin over HTTP; the run fails (exit 1) on a 5xx, a connection
error, a change not visible within 1 s, a slow save, or a missed throughput
target. Options, targets and output: docs/performance.md ("make loadtest").
"""

import contextlib
import json
import os
import random
import re
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from html.parser import HTMLParser
from itertools import chain
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import servers  # noqa: E402  (needs ROOT on the path)

SECONDS = int(os.environ.get("LOADTEST_SECONDS") or 60)
CONNECTIONS = int(os.environ.get("LOADTEST_CONNECTIONS") or 64)
THREADS = int(os.environ.get("LOADTEST_THREADS") or 2)
N = int(os.environ.get("LOADTEST_N") or 10_000)
PORT = int(os.environ.get("LOADTEST_PORT") or 8766)
VISIBLE_TARGET = float(os.environ.get("LOADTEST_VISIBLE_TARGET") or 1.0)
DEFAULT_REDIS = "redis://127.0.0.1:6379/8"
BASE = f"http://127.0.0.1:{PORT}"
VARNISH_PORT = int(os.environ.get("LOADTEST_VARNISH_PORT") or 8767)
VARNISH_BASE = f"http://127.0.0.1:{VARNISH_PORT}"
# The phases, run one after the other on the same server and database.
PHASES = {
    "readers": {"title": "readers only, gunicorn", "editor": False, "varnish": False},
    "editor": {"title": "readers and the editor, gunicorn", "editor": True, "varnish": False},
    "varnish": {"title": "readers and the editor, through Varnish", "editor": True, "varnish": True},
}
PHASE_NAMES = [name.strip() for name in (os.environ.get("LOADTEST_PHASES") or ",".join(PHASES)).split(",") if name]
SAVE_TARGET = 1.0  # the editor's save, median, seconds
EDITOR_RPS_SHARE = 0.7  # readers' throughput with the editor, of the readers-only figure
EDITOR_P99_FACTOR = 2.0  # readers' p99 with the editor, at most this times readers-only
VARNISH_RPS_FACTOR = 5.0  # through Varnish with the editor, at least this times gunicorn readers-only
# Shares of the readers' requests.
MIX = {"article": 50, "home": 10, "section": 10, "tag": 10, "author": 5, "search": 8, "feed": 7}


def log(message):
    print(message, file=sys.stderr, flush=True)


# The server's environment ------------------------------------------------------------------------


def server_environment():
    env = {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "loadtest-only-not-secret",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_HTTPS": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_STATIC_ROOT": str(ROOT / "var" / "loadtest" / "static"),
        "NEWSROOM_SERVE_MEDIA": "0",
    }
    description = {}
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
        description["database"] = re.sub(r"//[^@/]*@", "//", env["DATABASE_URL"])
    else:
        source = ROOT / "var" / "bench" / f"db-{N}.sqlite3"
        if not source.exists():
            source = ROOT / "var" / "loadtest" / f"corpus-{N}.sqlite3"
        working = ROOT / "var" / "loadtest" / "run.sqlite3"
        env["DATABASE_URL"] = f"sqlite:///{working}"
        description["database"] = f"SQLite, a copy of {source.relative_to(ROOT)}"
        description["sqlite_source"] = str(source)
        description["sqlite_working"] = str(working)
    redis_url = os.environ.get("REDIS_URL", DEFAULT_REDIS)
    if redis_url:
        env["REDIS_URL"] = redis_url
        env["NEWSROOM_CACHE_KEY_PREFIX"] = f"loadtest-{uuid.uuid4().hex[:10]}"
        env["NEWSROOM_CACHE_PAGES"] = os.environ.get("NEWSROOM_CACHE_PAGES", "1")
        description["cache"] = f"Redis {redis_url} (prefix {env['NEWSROOM_CACHE_KEY_PREFIX']})"
    else:
        env["NEWSROOM_CACHE_PAGES"] = os.environ.get("NEWSROOM_CACHE_PAGES", "0")
        description["cache"] = "local memory"
    description["page_cache"] = env["NEWSROOM_CACHE_PAGES"] == "1"
    if os.environ.get("WEB_CONCURRENCY"):
        env["WEB_CONCURRENCY"] = os.environ["WEB_CONCURRENCY"]
    return env, description


def copy_sqlite(source, working):
    """A consistent copy (SQLite's backup API), even while the benchmark reads the source."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{working}{suffix}").unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(working)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()


def prepare_database(description):
    """Migrate, fill when empty; runs in this process (django.setup() done)."""
    from django.core.management import call_command

    from articles.models import Article

    if "sqlite_source" in description:
        source, working = Path(description["sqlite_source"]), Path(description["sqlite_working"])
        working.parent.mkdir(parents=True, exist_ok=True)
        if not source.exists():
            log(f"== building the corpus of {N} articles once: {source.relative_to(ROOT)}")
            build_env = {**os.environ, "DATABASE_URL": f"sqlite:///{source}"}
            for command in (["migrate", "-v0"], ["generate_corpus", str(N), "--seed", "1"]):
                subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=build_env, check=True)
        log(f"== copying {source.relative_to(ROOT)}")
        copy_sqlite(source, working)
    call_command("migrate", verbosity=0)
    if not Article.objects.exists():
        log(f"== the database is empty: generate_corpus {N}")
        call_command("generate_corpus", N, seed=1)
    call_command("collectstatic", interactive=False, verbosity=0)


# What the readers ask for, and what the editor changes --------------------------------------------


def readers_urls(out):
    from django.db.models import Count
    from django.urls import reverse

    from articles.management.commands.generate_corpus import RARE_WORDS
    from articles.models import Article, Author, Section, Tag

    rng = random.Random(11)
    ids = list(Article.objects.published().values_list("pk", flat=True))
    sample = rng.sample(ids, min(300, len(ids)))
    sections = list(Section.objects.annotate(n=Count("articles")).filter(n__gt=0))
    urls = {
        "article": [a.get_absolute_url() for a in Article.objects.filter(pk__in=sample)],
        "home": ["/", "/?page=2"],
        "section": [s.get_absolute_url() for s in sections],
        "tag": [
            t.get_absolute_url() for t in Tag.objects.annotate(n=Count("taggedarticle_items")).order_by("-n")[:40]
        ],
        "author": [a.get_absolute_url() for a in Author.objects.annotate(n=Count("articles")).order_by("-n")[:40]],
        "search": [f"{reverse('articles:search')}?q={word}" for word in RARE_WORDS[:10]],
        "feed": [reverse("articles:latest-rss"), reverse("articles:latest-atom")]
        + [reverse("articles:section-rss", args=[s.slug]) for s in sections[:4]],
    }
    lines = []
    for kind, share in MIX.items():
        paths = urls[kind]
        lines += [paths[i % len(paths)] for i in range(share * 10)]
    rng.shuffle(lines)
    (out / "urls.txt").write_text("\n".join(lines) + "\n")
    return urls


def prepare_editor(needed_drafts):
    """A superuser for the run; enough drafts for it to publish (a reused database may have run out)."""
    from django.contrib.auth.models import User

    from articles.caching.keys import invalidate_everything
    from articles.models import Article

    username = f"loadtest-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(16)
    User.objects.create_superuser(username, f"{username}@example.com", password)
    drafts = Article.objects.filter(status=Article.Status.DRAFT).count()
    if drafts < needed_drafts:
        oldest = Article.objects.published().order_by("published_at", "id")[: needed_drafts - drafts]
        Article.objects.filter(pk__in=list(oldest.values_list("pk", flat=True))).update(status=Article.Status.DRAFT)
        invalidate_everything()
    return username, password


def retire_editor(username):
    from django.contrib.auth.models import User

    User.objects.filter(username=username).update(is_active=False, password="!")


# The editor --------------------------------------------------------------------------------------


class FormParser(HTMLParser):
    """The fields a browser would submit from the form with this id (no buttons, no files)."""

    def __init__(self, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields = []
        self.errors = []
        self._textarea = None
        self._select = None
        self._option = None
        self._in_error = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "errorlist" in (attrs.get("class") or "") or "errornote" in (attrs.get("class") or ""):
            self._in_error = True
        if tag == "form" and attrs.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in {"submit", "button", "image", "file", "reset"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in attrs:
                return
            self.fields.append((name, attrs.get("value") or ("on" if kind in {"checkbox", "radio"} else "")))
        elif tag == "textarea" and name:
            self._textarea = [name, ""]
        elif tag == "select" and name:
            self._select = {"name": name, "multiple": "multiple" in attrs, "options": []}
        elif tag == "option" and self._select is not None:
            self._option = [attrs.get("value"), "selected" in attrs, ""]
            self._select["options"].append(self._option)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data
        elif self._option is not None:
            self._option[2] += data
        if self._in_error and data.strip():
            self.errors.append(data.strip())

    def handle_endtag(self, tag):
        if tag in {"ul", "p", "li"}:
            self._in_error = False
        if tag == "textarea" and self._textarea is not None:
            self.fields.append(tuple(self._textarea))
            self._textarea = None
        elif tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            options = self._select["options"]
            chosen = [o for o in options if o[1]] or ([] if self._select["multiple"] else options[:1])
            for value, _, text in chosen:
                self.fields.append((self._select["name"], value if value is not None else text.strip()))
            self._select = None
        elif tag == "form" and self.inside:
            self.inside = False


def parse_form(html, form_id):
    parser = FormParser(form_id)
    parser.feed(html)
    return parser


class EditorError(Exception):
    pass


class Editor:
    def __init__(self, username, password, base=BASE):
        self.session = requests.Session()
        self.session.trust_env = False
        self.username, self.password = username, password
        self.base = base

    def login(self):
        page = self.session.get(f"{self.base}/admin/login/?next=/admin/", timeout=30)
        form = parse_form(page.text, "login-form")
        data = dict(form.fields) | {"username": self.username, "password": self.password, "next": "/admin/"}
        response = self.session.post(f"{self.base}/admin/login/", data=data, allow_redirects=False, timeout=30)
        if response.status_code != 302:
            raise EditorError(f"admin login answered {response.status_code}")

    def save(self, pk, changes, button="_continue"):
        """
        Post the change form with `changes` and `button` (_continue: Update, or Save draft;
        _publish: Publish); the time the save's response arrived.
        """
        url = f"{self.base}/admin/articles/article/{pk}/change/"
        page = self.session.get(url, timeout=30)
        if page.status_code != 200:
            raise EditorError(f"GET {url} answered {page.status_code}")
        fields = [(name, value) for name, value in parse_form(page.text, "article_form").fields if name not in changes]
        data = [*fields, *changes.items(), (button, "")]
        response = self.session.post(url, data=data, allow_redirects=False, timeout=30)
        saved = time.monotonic()
        if response.status_code != 302:
            errors = parse_form(response.text, "article_form").errors
            raise EditorError(f"saving article {pk} answered {response.status_code}: {'; '.join(errors)[:300]}")
        return saved


def first_seen(path, expected, saved, timeout=10.0, base=BASE):
    """Poll `path` anonymously until it shows `expected`: when the first request that did was sent, and answered."""
    polls = 0
    with requests.Session() as session:
        session.trust_env = False
        while True:
            sent = time.monotonic()
            response = session.get(f"{base}{path}", timeout=30)
            polls += 1
            if response.status_code == 200 and expected in response.text:
                return {
                    "page": path,
                    "visible_after": sent - saved,
                    "round_trip": time.monotonic() - saved,
                    "polls": polls,
                }
            if sent - saved > timeout:
                return {"page": path, "visible_after": None, "status": response.status_code, "polls": polls}
            time.sleep(0.01)


def run_editor(editor, stop, out, run_id, journal_name="editor.jsonl"):
    from django.db import close_old_connections

    from articles.models import Article

    results = []
    pool = ThreadPoolExecutor(max_workers=2)
    editor.login()
    step = 0
    with (out / journal_name).open("w") as journal:
        while not stop.is_set():
            started = time.monotonic()
            step += 1
            headline = f"Loadtest {run_id} change {step}"
            record = {"step": step, "headline": headline}
            try:
                close_old_connections()
                if step % 2:
                    article = Article.objects.published().newest_first()[step % 5]
                    record |= {"action": "edit", "pk": article.pk}
                    saved = editor.save(article.pk, {"headline": headline})
                else:
                    article = Article.objects.filter(status=Article.Status.DRAFT).order_by("?").first()
                    if article is None:
                        raise EditorError("no draft left to publish")
                    record |= {"action": "publish", "pk": article.pk}
                    # Publish, with the time left empty: "the moment you press Publish".
                    saved = editor.save(
                        article.pk,
                        {"headline": headline, "published_at_0": "", "published_at_1": ""},
                        button="_publish",
                    )
                    article.refresh_from_db()
                    if not article.is_live:  # refused by the ready check: the admin says so and keeps a draft
                        raise EditorError(f"article {article.pk} was not published (not ready for readers?)")
                record["save_s"] = saved - started
                pages = [article.get_absolute_url(), "/"]
                record["seen"] = [
                    future.result()
                    for future in [pool.submit(first_seen, path, headline, saved, base=editor.base) for path in pages]
                ]
            except (EditorError, requests.RequestException) as error:
                record["error"] = str(error)
            results.append(record)
            journal.write(json.dumps(record) + "\n")
            journal.flush()
            stop.wait(max(0.0, 1.0 - (time.monotonic() - started)))
    pool.shutdown()
    return results


# The run -----------------------------------------------------------------------------------------


def ensure_wrk():
    if shutil.which("wrk"):
        return
    if os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False)
        if not shutil.which("wrk"):
            subprocess.run(["apt-get", "update", "-q"], check=True)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)
    else:
        raise SystemExit("wrk is missing: sudo apt-get install wrk")


def ms(seconds):
    return "–" if seconds is None else f"{seconds * 1000:.0f} ms"


def summarize(values):
    values = [v for v in values if v is not None]
    if not values:
        return {"median": None, "max": None}
    return {"median": statistics.median(values), "max": max(values)}


def run_readers(base, out):
    """wrk on `base` for SECONDS: its one line of JSON results."""
    readers = subprocess.Popen(
        ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", "10s",
         "-s", str(ROOT / "bench" / "loadtest.lua"), base, "--", str(out / "urls.txt")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    return readers


def varnish_counters(out):
    """Varnish's hits, misses, passes, backend fetches and purged objects so far (varnishstat)."""
    names = {
        "MAIN.cache_hit": "hits",
        "MAIN.cache_miss": "misses",
        "MAIN.s_pass": "passes",
        "MAIN.cache_hitmiss": "hit_for_miss",
        "MAIN.s_fetch": "fetches",
        "MAIN.n_obj_purged": "purged",
    }
    stats = subprocess.run(
        ["varnishstat", "-n", str(out / "varnishd" / "varnishd"), "-1", "-j"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    counters = json.loads(stats).get("counters", {})
    return {label: counters.get(name, {}).get("value", 0) for name, label in names.items()}


def run_phase(name, *, base, editor_credentials, out):
    """One phase: readers on `base` for SECONDS, with the editor working through `base` or not."""
    spec = PHASES[name]
    log(f"== phase {name}: {spec['title']}")
    stop = threading.Event()
    editor_results = []
    thread = None
    if spec["editor"]:
        editor = Editor(*editor_credentials, base=base)
        run_id = secrets.token_hex(3)

        def editor_thread():
            try:
                editor_results.extend(run_editor(editor, stop, out, run_id, journal_name=f"editor-{name}.jsonl"))
            except Exception as error:  # reported as a missed target
                editor_results.append({"error": f"the editor stopped: {error!r}"})

        thread = threading.Thread(target=editor_thread)
    readers = run_readers(base, out)
    if thread:
        thread.start()
    wrk_out, _ = readers.communicate(timeout=SECONDS + 120)
    stop.set()
    if thread:
        thread.join(timeout=60)
    (out / f"wrk-{name}.out").write_text(wrk_out)
    readers_result = json.loads(wrk_out.strip().splitlines()[-1])

    changes = [r for r in editor_results if "action" in r and "error" not in r]
    failed = [r for r in editor_results if "error" in r]
    seen = [s for r in changes for s in r["seen"]]
    not_seen = [s for s in seen if s["visible_after"] is None]
    r = readers_result
    result = {
        "title": spec["title"],
        "readers": readers_result,
        "connection_errors": sum(r[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")),
    }
    if spec["editor"]:
        result["editor"] = {
            "changes": len(changes),
            "edits": sum(c["action"] == "edit" for c in changes),
            "publications": sum(c["action"] == "publish" for c in changes),
            "failed": [c["error"] for c in failed],
            "save_s": summarize([c["save_s"] for c in changes]),
            "visible_after_s": summarize([s["visible_after"] for s in seen]),
            "round_trip_s": summarize([s.get("round_trip") for s in seen]),
            "checks": len(seen),
            "not_seen": not_seen,
        }
    return result


def phase_targets(name, result):
    """The targets every phase meets on its own."""
    r = result["readers"]
    targets = {
        f"{name}: no 5xx": r["status_5xx"] == 0,
        f"{name}: no connection errors": result["connection_errors"] == 0,
        f"{name}: no 4xx (the URL mix is sound)": r["status_4xx"] == 0,
    }
    if editor := result.get("editor"):
        visible = editor["visible_after_s"]
        targets |= {
            f"{name}: every change saved": not editor["failed"] and editor["changes"] > 0,
            f"{name}: every change visible within {VISIBLE_TARGET:g} s": not editor["not_seen"]
            and visible["max"] is not None
            and visible["max"] <= VISIBLE_TARGET,
            f"{name}: the editor's save under {SAVE_TARGET:g} s at the median": editor["save_s"]["median"] is not None
            and editor["save_s"]["median"] < SAVE_TARGET,
        }
    return targets


def comparison_targets(phases):
    """The editor's cost to readers, and what Varnish adds, against the readers-only phase."""
    targets = {}
    if "readers" not in phases:
        return targets
    alone = phases["readers"]["readers"]
    if "editor" in phases:
        busy = phases["editor"]["readers"]
        targets[f"editor: readers' throughput >= {EDITOR_RPS_SHARE:.0%} of readers-only"] = (
            busy["rps"] >= EDITOR_RPS_SHARE * alone["rps"]
        )
        targets[f"editor: readers' p99 <= {EDITOR_P99_FACTOR:g}x readers-only"] = (
            busy["p99_ms"] <= EDITOR_P99_FACTOR * alone["p99_ms"]
        )
    if "varnish" in phases:
        targets[f"varnish: throughput >= {VARNISH_RPS_FACTOR:g}x readers-only through gunicorn"] = (
            phases["varnish"]["readers"]["rps"] >= VARNISH_RPS_FACTOR * alone["rps"]
        )
    return targets


def describe_phase(name, result):
    r = result["readers"]
    lines = [
        f"{name} ({result['title']}): {r['requests']:,} requests, {r['rps']:,.1f} req/s, p50 {r['p50_ms']:.1f} ms, "
        f"p90 {r['p90_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.0f} ms",
        f"  2xx {r['status_2xx']:,}, 3xx {r['status_3xx']}, 4xx {r['status_4xx']}, 5xx {r['status_5xx']}, "
        f"connection errors {result['connection_errors']} (connect {r['connect_errors']}, read {r['read_errors']}, "
        f"write {r['write_errors']}, timeout {r['timeouts']})",
    ]
    if counters := result.get("varnish"):
        counts = (f"{value:,} {name.replace('_', ' ')}" for name, value in counters.items())
        lines.append("  Varnish: " + ", ".join(counts))
    if editor := result.get("editor"):
        saves, visible, round_trip = editor["save_s"], editor["visible_after_s"], editor["round_trip_s"]
        lines += [
            f"  editor: {editor['changes']} changes through the admin ({editor['edits']} headline edits, "
            f"{editor['publications']} drafts published), {len(editor['failed'])} failed; "
            f"save (form GET + POST) median {ms(saves['median'])}, max {ms(saves['max'])}",
            f"  visible after (article and home, {editor['checks']} checks): median {ms(visible['median'])}, "
            f"max {ms(visible['max'])}; round trip until seen: median {ms(round_trip['median'])}, "
            f"max {ms(round_trip['max'])}; never seen: {len(editor['not_seen'])}",
        ]
        lines += [f"  editor error: {error}" for error in editor["failed"][:5]]
    return "\n".join(lines)


def main():
    ensure_wrk()
    unknown = [name for name in PHASE_NAMES if name not in PHASES]
    if unknown or not PHASE_NAMES:
        raise SystemExit(f"LOADTEST_PHASES: {', '.join(unknown) or 'none'}? Known: {', '.join(PHASES)}")
    through_varnish = "varnish" in PHASE_NAMES
    if through_varnish:
        from varnish.run import ensure_installed, varnishd

        ensure_installed()
    out = ROOT / "var" / "loadtest" / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    env, description = server_environment()
    if through_varnish:
        # Every save purges Varnish, in every phase (it is there from the start, idle until its phase).
        env["NEWSROOM_PURGE_URLS"] = VARNISH_BASE
        description["varnish"] = f"{VARNISH_BASE} (varnish/default.vcl)"
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "newsroom.settings"
    import django

    django.setup()
    from django.db import connections

    prepare_database(description)
    if env.get("REDIS_URL"):
        import redis

        client = redis.Redis.from_url(env["REDIS_URL"])
        try:
            client.ping()
        except redis.RedisError as error:
            raise SystemExit(
                f"Redis at {env['REDIS_URL']} does not answer ({error}); REDIS_URL= runs without it"
            ) from None
    urls = readers_urls(out)
    editor_phases = sum(PHASES[name]["editor"] for name in PHASE_NAMES)
    username, password = prepare_editor(needed_drafts=editor_phases * (SECONDS // 2) + 5)
    connections.close_all()

    log_path = out / "gunicorn.log"
    server_env = {**os.environ, "GUNICORN_ACCESS_LOG": "", "GUNICORN_LOG_LEVEL": "info"}
    phases = {}
    stack = contextlib.ExitStack()
    try:
        stack.enter_context(servers.gunicorn(server_env, log_path=log_path, port=PORT, timeout=60, stop_timeout=30))
        workers = len(re.findall(r"Booting worker", log_path.read_text()))
        for kind, paths in urls.items():  # every kind of page answers before the load starts
            status = requests.get(f"{BASE}{paths[0]}", timeout=30).status_code
            if status != 200:
                raise SystemExit(f"{paths[0]} ({kind}) answered {status}")
        # Every page of the mix once, so that the readers-only phase measures a warm cache, not its filling.
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda path: requests.get(f"{BASE}{path}", timeout=30), sorted({*chain(*urls.values())})))
        log(
            f"== {SECONDS} s a phase ({', '.join(PHASE_NAMES)}), {CONNECTIONS} connections, "
            f"{description['database']}, cache: {description['cache']}, "
            f"page cache {'on' if description['page_cache'] else 'off'}, {workers} gunicorn workers"
        )
        with contextlib.ExitStack() as varnish_stack:  # (rebinding `stack` would stop gunicorn)
            if through_varnish:
                varnish_stack.enter_context(
                    varnishd(VARNISH_PORT, PORT, workdir=out / "varnishd", env=os.environ.copy())
                )
            for name in PHASE_NAMES:
                base = VARNISH_BASE if PHASES[name]["varnish"] else BASE
                before = varnish_counters(out) if PHASES[name]["varnish"] else None
                phases[name] = run_phase(name, base=base, editor_credentials=(username, password), out=out)
                if before is not None:
                    after = varnish_counters(out)
                    phases[name]["varnish"] = {name: after[name] - before[name] for name in after}
                time.sleep(2)  # the last saves' purges and renders settle
    finally:
        stack.close()
        retire_editor(username)
        connections.close_all()
        if env.get("REDIS_URL"):
            keys = list(client.scan_iter(f"{env['NEWSROOM_CACHE_KEY_PREFIX']}:*"))
            if keys:
                client.delete(*keys)
        if "sqlite_working" in description:
            for suffix in ("", "-wal", "-shm"):
                Path(description["sqlite_working"] + suffix).unlink(missing_ok=True)

    tracebacks = log_path.read_text().count("Traceback")
    targets = {}
    for name, result in phases.items():
        targets |= phase_targets(name, result)
    targets |= comparison_targets(phases)
    targets["no traceback in the server log"] = tracebacks == 0
    results = {
        "seconds": SECONDS,
        "connections": CONNECTIONS,
        "workers": workers,
        **description,
        "phases": phases,
        "server_tracebacks": tracebacks,
        "targets": targets,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")

    print(
        f"Load test: {SECONDS} s a phase, {CONNECTIONS} connections, {workers} gunicorn workers\n"
        f"  database: {description['database']}; cache: {description['cache']}; "
        f"page cache {'on' if description['page_cache'] else 'off'}"
        + (f"; Varnish {description['varnish']}" if through_varnish else "")
        + "\n"
        + "\n".join(describe_phase(name, result) for name, result in phases.items())
        + f"\nserver: {tracebacks} tracebacks in the log\n"
        + "\n".join(f"  [{'ok' if ok else 'MISSED'}] {name}" for name, ok in targets.items())
        + f"\nWritten to {out.relative_to(ROOT)}/"
    )
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
