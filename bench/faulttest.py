"""
`make faulttest`: restarts the local PostgreSQL while readers load the site, and
checks that readers get 503 pages (not 500s) while it is down and that the site
recovers by itself. Test machines only. Details: docs/performance.md ("make faulttest").
"""

import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.servers import gunicorn  # noqa: E402  (needs ROOT on the path)

N = int(os.environ.get("FAULTTEST_N") or 1000)
WARMUP = float(os.environ.get("FAULTTEST_WARMUP") or 5)
DOWN = float(os.environ.get("FAULTTEST_DOWN") or 5)
AFTER = float(os.environ.get("FAULTTEST_AFTER") or 15)
CLIENTS = int(os.environ.get("FAULTTEST_CLIENTS") or 4)
POOL_TIMEOUT = os.environ.get("FAULTTEST_POOL_TIMEOUT") or "2"
QUIET_WAIT = float(os.environ.get("FAULTTEST_QUIET_WAIT") or 120)
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/newsroom_faulttest"


def log(message):
    print(f"{datetime.now().strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def database_url():
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith(("postgres://", "postgresql://")):
        log(f"DATABASE_URL is not PostgreSQL; using {DEFAULT_URL}")
        url = DEFAULT_URL
    return url


def admin_url(url):
    return re.sub(r"/[^/?]*(\?.*)?$", "/postgres", url)


def cluster_for(url):
    if os.environ.get("FAULTTEST_CLUSTER"):
        return os.environ["FAULTTEST_CLUSTER"].split("/")
    port = re.search(r":(\d+)/", url)
    port = port.group(1) if port else "5432"
    for line in subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True
    ).stdout.splitlines():
        version, name, cluster_port, *_ = line.split()
        if cluster_port == port:
            return version, name
    raise SystemExit(f"no PostgreSQL cluster listens on port {port} (pg_lsclusters); set FAULTTEST_CLUSTER=15/main")


def prepare(url, env):
    name = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')

    def manage(*args):
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    manage("migrate", "-v0")
    manage("collectstatic", "--noinput", "-v0")
    script = (
        "from articles.models import Article, Section; "
        "live = Article.objects.published(); print('COUNT', live.count()); "
        "[print('PATH', a.get_absolute_url()) for a in live.order_by('-published_at')[:20]]; "
        "[print('PATH', s.get_absolute_url()) for s in Section.objects.all()[:3]]"
    )

    def published():
        lines = [line.split(" ", 1) for line in manage("shell", "-v0", "-c", script).splitlines() if " " in line]
        return int(dict(lines)["COUNT"]), [value for key, value in lines if key == "PATH"]

    count, paths = published()
    if count == 0:
        log(f"the database is empty: generate_corpus {N}")
        manage("generate_corpus", str(N), "--seed", "1")
        count, paths = published()
    return ["/", "/?page=2", *paths]


def busy_sessions_elsewhere(url):
    """Sessions of other databases in a query or a transaction (a test run mid-test)."""
    name = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        return conn.execute(
            "SELECT datname, state, count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
            "AND pid <> pg_backend_pid() AND datname IS DISTINCT FROM %s AND state <> 'idle' "
            "GROUP BY datname, state",
            [name],
        ).fetchall()


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.rows = []

    def add(self, **row):
        with self.lock:
            self.rows.append(row)


def client_loop(label, port, paths, offset, stop, recorder, kind="page"):
    i = offset
    with requests.Session() as session:
        while not stop.is_set():
            path = paths[i % len(paths)]
            i += 1
            sent = time.monotonic()
            try:
                response = session.get(f"http://127.0.0.1:{port}{path}", timeout=30)
                status = response.status_code
                unavailable_page = "Service temporarily unavailable" in response.text
            except requests.RequestException as error:
                status, unavailable_page = f"connection error: {type(error).__name__}", False
            recorder.add(server=label, kind=kind, path=path, sent=sent, received=time.monotonic(), status=status,
                         unavailable_page=unavailable_page)  # fmt: skip
            if kind == "health":
                stop.wait(1.0)


def pg_ctl(cluster, action):
    version, name = cluster
    args = ["pg_ctlcluster", version, name, action] + (["-m", "fast"] if action == "stop" else [])
    log(" ".join(args))
    subprocess.run(args, check=True)


def first_connection(url, accepting, stop):
    """Record when PostgreSQL first accepts a connection again."""
    while not stop.is_set():
        try:
            with psycopg.connect(url, connect_timeout=2):
                accepting.append(time.monotonic())
                return
        except psycopg.OperationalError:
            time.sleep(0.02)


def analyse(rows, label, t_stop, t_back):
    mine = [r for r in rows if r["server"] == label and r["kind"] == "page"]

    def counts(selection):
        result = {}
        for r in selection:
            result[str(r["status"])] = result.get(str(r["status"]), 0) + 1
        return dict(sorted(result.items()))

    # By when the answer came: a request in flight when PostgreSQL stopped is answered while it is down.
    before = [r for r in mine if r["received"] < t_stop]
    down = [r for r in mine if t_stop <= r["received"] < t_back]
    after = [r for r in mine if r["received"] >= t_back]
    first_200 = min((r["received"] for r in after if r["status"] == 200), default=None)
    last_not_ok = max((r["received"] for r in after if r["status"] != 200), default=None)
    health = [r for r in rows if r["server"] == label and r["kind"] == "health"]
    return {
        "before": counts(before),
        "while_down": counts(down),
        "after": counts(after),
        "503_while_down": sum(r["status"] == 503 for r in down),
        "503_with_the_page": sum(r["status"] == 503 and r["unavailable_page"] for r in mine),
        "503_total": sum(r["status"] == 503 for r in mine),
        "500": sum(r["status"] == 500 for r in mine),
        "other_5xx": sum(
            isinstance(r["status"], int) and r["status"] >= 500 and r["status"] not in (500, 503) for r in mine
        ),  # fmt: skip
        "connection_errors": sum(isinstance(r["status"], str) for r in mine),
        "first_200_after_back_s": None if first_200 is None else round(first_200 - t_back, 3),
        "last_non_200_after_back_s": None if last_not_ok is None else round(last_not_ok - t_back, 3),
        "ends_answering_200": bool(after) and after[-1]["status"] == 200,
        "health_while_down": counts([r for r in health if t_stop <= r["received"] < t_back]),
        "health_after": counts([r for r in health if r["received"] >= t_back]),
        "requests": len(mine),
    }


def main():
    url = database_url()
    cluster = cluster_for(url)
    out = ROOT / "var" / "faulttest" / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    base_env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "faulttest-only-not-secret",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_HTTPS": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_STATIC_ROOT": str(ROOT / "var" / "faulttest" / "static"),
        "NEWSROOM_SERVE_MEDIA": "0",
        "NEWSROOM_CACHE_PAGES": "0",
    }
    base_env.pop("REDIS_URL", None)
    base_env.pop("DJANGO_SETTINGS_MODULE", None)
    log(f"database {re.sub(r'//[^@/]*@', '//', url)}, cluster {'/'.join(cluster)}")
    paths = prepare(url, base_env)
    variants = {
        "kept": {**base_env, "DJANGO_DB_POOL": "0"},
        "pool": {**base_env, "DJANGO_DB_POOL": "1", "DJANGO_DB_POOL_TIMEOUT": POOL_TIMEOUT},
    }
    servers = {}
    recorder = Recorder()
    stop = threading.Event()
    threads = []
    pg_stopped = False
    running = contextlib.ExitStack()
    try:
        for label, env in variants.items():
            log_path = out / f"gunicorn-{label}.log"
            server_env = {**env, "WEB_CONCURRENCY": "2", "GUNICORN_ACCESS_LOG": ""}
            port = running.enter_context(gunicorn(server_env, log_path=log_path, timeout=60, stop_timeout=30))
            servers[label] = (port, log_path)
        for label, (port, *_) in servers.items():  # never restart PostgreSQL for a broken page list
            for path in paths:
                status = requests.get(f"http://127.0.0.1:{port}{path}", timeout=30).status_code
                if status != 200:
                    raise SystemExit(f"{path} answered {status} on {label} before the restart; not restarting")
        for label, (port, *_) in servers.items():
            for c in range(CLIENTS):
                threads.append(threading.Thread(target=client_loop, args=(label, port, paths, c * 3, stop, recorder)))
            threads.append(
                threading.Thread(target=client_loop, args=(label, port, ["/healthz"], 0, stop, recorder, "health"))
            )
        for thread in threads:
            thread.start()
        log(f"load: {CLIENTS} clients per server on {len(paths)} pages, warming up {WARMUP:g} s")
        time.sleep(WARMUP)
        deadline = time.monotonic() + QUIET_WAIT
        while (busy := busy_sessions_elsewhere(url)) and time.monotonic() < deadline:
            log(f"waiting for other databases' sessions to finish: {busy}")
            time.sleep(2)
        t_stop = time.monotonic()
        pg_stopped = True
        pg_ctl(cluster, "stop")
        t_down = time.monotonic()
        time.sleep(DOWN)
        t_start = time.monotonic()
        accepting = []
        probe = threading.Thread(target=first_connection, args=(url, accepting, stop))
        probe.start()
        pg_ctl(cluster, "start")
        pg_stopped = False
        t_started = time.monotonic()
        probe.join(timeout=30)
        # "Back" is when PostgreSQL first accepts a connection; pg_ctlcluster returns later.
        t_back = accepting[0] if accepting else t_started
        log(f"PostgreSQL back after {t_back - t_stop:.1f} s; load goes on for {AFTER:g} s")
        time.sleep(AFTER)
    finally:
        if pg_stopped:
            pg_ctl(cluster, "start")
        stop.set()
        for thread in threads:
            thread.join(timeout=40)
        running.close()

    rows = recorder.rows
    with (out / "requests.jsonl").open("w") as f:
        for r in rows:
            f.write(
                json.dumps({**r, "sent": round(r["sent"] - t_stop, 4), "received": round(r["received"] - t_stop, 4)})
                + "\n"
            )
    results = {
        "cluster": "/".join(cluster),
        "stop_took_s": round(t_down - t_stop, 3),
        "down_s": round(t_back - t_stop, 3),
        "accepting_after_start_s": round(t_back - t_start, 3),
        "pg_ctlcluster_start_took_s": round(t_started - t_start, 3),
        "servers": {},
    }
    ok = True
    for label, (_, log_path) in servers.items():
        text = log_path.read_text()
        summary = analyse(rows, label, t_stop, t_back)
        summary["tracebacks_in_log"] = text.count("Traceback")
        summary["503_warnings_in_log"] = text.count("Database unavailable, answered 503")
        summary["worker_boots"] = text.count("Booting worker")
        results["servers"][label] = summary
        ok &= (
            summary["500"] == 0
            and summary["other_5xx"] == 0
            and summary["connection_errors"] == 0
            and summary["tracebacks_in_log"] == 0
            and summary["ends_answering_200"]
            and summary["503_with_the_page"] == summary["503_total"]
        )
    results["ok"] = ok
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")

    print(
        f"PostgreSQL {results['cluster']}: stop took {results['stop_took_s']} s; it accepted connections again "
        f"{results['down_s']} s after the stop began, {results['accepting_after_start_s']} s after the start "
        f"(pg_ctlcluster start returned after {results['pg_ctlcluster_start_took_s']} s)"
    )
    for label, s in results["servers"].items():
        print(
            f"{label:>5}: {s['requests']} requests; before {s['before']}; while down {s['while_down']}; "
            f"after {s['after']}\n"
            f"       503 while down {s['503_while_down']} (all 503s with the 503 page: "
            f"{s['503_with_the_page']}/{s['503_total']}), 500s {s['500']}, other 5xx {s['other_5xx']}, "
            f"connection errors {s['connection_errors']}, tracebacks in the log {s['tracebacks_in_log']}, "
            f"worker boots {s['worker_boots']}\n"
            f"       first 200 {s['first_200_after_back_s']} s after PostgreSQL was back; "
            + (
                "no answer but 200 after that"
                if s["last_non_200_after_back_s"] is None
                else f"last non-200 {s['last_non_200_after_back_s']} s after"
            )
            + f"; /healthz while down {s['health_while_down']}, "
            f"after {s['health_after']}"
        )
    print(f"{'ok' if ok else 'FAILED'}; written to {out.relative_to(ROOT)}/")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
