"""
Start and stop a gunicorn serving newsroom.wsgi with gunicorn.conf.py: the one
helper behind the server tests (articles/tests/servers.py), `make loadtest`
and `make faulttest`.

It lives with the tooling, and imports nothing from Django, so the benchmark
scripts can use it before django.setup() or without it; the tests import it
from here, and the app never does.
"""

import contextlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class ServerDidNotStart(RuntimeError):
    pass


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status(port, path, *, timeout=5):
    """The status of a GET on 127.0.0.1:port, or None when nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code
    except OSError:
        return None


@contextlib.contextmanager
def gunicorn(env, *, log_path, port=None, workers=None, ready="/healthz", timeout=30, stop_timeout=15):
    """
    A gunicorn on 127.0.0.1:`port` (a free one when None) with the environment
    `env`, its log in `log_path` and its control socket next to it; `workers`
    None leaves the count to gunicorn.conf.py (WEB_CONCURRENCY). Yields the
    port once `ready` answers 200, or raises ServerDidNotStart with the log's
    end. Stopped on the way out: TERM, then KILL after `stop_timeout` seconds.
    """
    port = port or free_port()
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}",
               "--control-socket", str(log_path.with_suffix(".ctl"))]  # fmt: skip
    if workers:
        command += ["-w", str(workers)]
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [*command, "newsroom.wsgi"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log
        )
        try:
            deadline = time.monotonic() + timeout
            while status(port, ready) != 200:
                if server.poll() is not None:
                    raise ServerDidNotStart(f"gunicorn exited:\n{log_path.read_text()[-3000:]}")
                if time.monotonic() > deadline:
                    raise ServerDidNotStart(f"gunicorn did not answer in {timeout} s:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.2)
            yield port
        finally:
            server.terminate()
            try:
                server.wait(timeout=stop_timeout)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
