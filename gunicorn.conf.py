"""
gunicorn settings for the newsroom (`make serve`, `make run`, `make bench`).

    gunicorn -c gunicorn.conf.py newsroom.wsgi

Every value can be overridden from the environment:

    GUNICORN_BIND        host:port to listen on (default 127.0.0.1:8000; HOST and PORT also work)
    WEB_CONCURRENCY      worker processes (default: 2 per CPU + 1)
    GUNICORN_THREADS     threads per worker (default 1: sync workers; more than 1: gthread workers)
    GUNICORN_TIMEOUT     seconds before a stuck worker is killed and replaced (default 30)
    GUNICORN_ACCESS_LOG  where access lines go: "-" is stderr (default), "" turns them off
    GUNICORN_MAX_REQUESTS  requests before a worker is replaced (default 10,000; 0: never)
    GUNICORN_CONTROL_SOCKET  gunicornc's socket (default ~/.gunicorn/newsroom-<host>-<port>.ctl)
"""

import multiprocessing
import os


def _int(name, default):
    return int(os.environ.get(name) or default)


bind = os.environ.get("GUNICORN_BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"

# Rendering a page is CPU work in Python: one process per core keeps the cores
# busy, the extra ones cover the time a worker waits on the database.
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
threads = _int("GUNICORN_THREADS", 1)

timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = timeout
# Behind a load balancer or proxy that keeps connections open (gthread workers only).
keepalive = 5
# Recycle workers now and then, staggered, so a slow leak never takes the site down.
max_requests = _int("GUNICORN_MAX_REQUESTS", 10_000)  # 0: never
max_requests_jitter = max_requests // 10

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Client, request line, status, bytes, duration in ms, referrer, user agent.
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(f)s" "%(a)s"'

# gunicornc's control socket, one per address: two servers on one machine (scale-out, the
# benchmark next to `make serve`) must not share gunicorn's single default path.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET") or os.path.join(
    os.path.expanduser("~"), ".gunicorn", f"newsroom-{bind.replace(':', '-').replace('/', '_')}.ctl"
)

# X-Forwarded-Proto is trusted from the proxy on this machine only (DJANGO_HTTPS=1 reads it).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
