"""
Varnish in front of gunicorn, started by hand rather than as a system service.

    python -m varnish.run          # `make serve-cached`: gunicorn on PORT, Varnish on VARNISH_PORT

`varnishd()` is the one place Varnish is started (make serve-cached, the
tests, the load test): its own working directory (-n), the repository's VCL
with the backend's port written in, malloc storage, in the foreground so the
caller owns the process. A missing varnishd or xkey vmod is installed with
apt-get (as root), never skipped.
"""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VCL = Path(__file__).resolve().parent / "default.vcl"
PACKAGES = ("varnish", "varnish-modules")
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy from the environment
BACKEND_PORT_LINE = re.compile(r'(backend default \{[^}]*?\.port = ")\d+(";)', re.S)


def xkey_installed():
    return any(Path("/usr/lib").glob("**/varnish/vmods/libvmod_xkey.so"))


def find_varnishd():
    return shutil.which("varnishd") or next((p for p in ("/usr/sbin/varnishd",) if os.access(p, os.X_OK)), None)


def ensure_installed():
    """The path of varnishd, installing Debian's varnish and varnish-modules when either is missing."""
    if find_varnishd() and xkey_installed():
        return find_varnishd()
    if os.geteuid() != 0:
        raise SystemExit(f"Varnish is missing: sudo apt-get install -y {' '.join(PACKAGES)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", *PACKAGES]
    if subprocess.run(install, env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(install, env=env, check=True)
    if not (find_varnishd() and xkey_installed()):
        raise SystemExit(f"apt-get installed {' '.join(PACKAGES)}, yet varnishd or the xkey vmod is missing")
    return find_varnishd()


def render_vcl(backend_port, destination):
    """varnish/default.vcl with the default backend on `backend_port`, written to `destination`."""
    vcl, count = BACKEND_PORT_LINE.subn(rf"\g<1>{int(backend_port)}\g<2>", VCL.read_text())
    if count != 1:
        raise RuntimeError(f'{VCL} has no `backend default {{ ... .port = "..."; }}` to set the port in')
    Path(destination).write_text(vcl)
    return destination


def port_is_free(port, host="127.0.0.1"):
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) != 0


def wait_ready(process, port, log_path, seconds=60):
    """Until Varnish answers on `port`: a PURGE without keys, which the VCL refuses without asking the backend."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/", method="PURGE")
            opener.open(request, timeout=5).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            output = Path(log_path).read_text()[-3000:] if Path(log_path).exists() else ""
            raise RuntimeError(f"varnishd did not start on 127.0.0.1:{port}:\n{output}")
        time.sleep(0.1)


@contextlib.contextmanager
def varnishd(port, backend_port, *, workdir=None, env=None, storage="malloc,256m"):
    """
    A varnishd on 127.0.0.1:`port` in front of 127.0.0.1:`backend_port`; yields
    the Popen. `env` is its environment (NEWSROOM_PURGE_TOKEN lets purges
    carry a secret). Its working directory is `workdir` or a temporary one.
    """
    binary = ensure_installed()
    if not port_is_free(port):
        raise RuntimeError(f"127.0.0.1:{port} is already in use (a system Varnish? VARNISH_PORT chooses another)")
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="newsroom-varnish-"))
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        vcl = render_vcl(backend_port, workdir / "newsroom.vcl")
        log_path = workdir / "varnishd.log"
        command = [
            binary, "-F",
            "-n", str(workdir / "varnishd"),
            "-a", f"127.0.0.1:{port}",
            "-f", str(vcl),
            "-s", storage,
            # Run as the caller: no switching to the varnish user, which could not read a private tmpdir.
            "-j", "none",
            "-T", "none",
        ]  # fmt: skip
        with log_path.open("w") as log:
            process = subprocess.Popen(
                command, env=env or os.environ.copy(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            wait_ready(process, port, log_path)
            process.log_path = log_path
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def serve():
    """`make serve-cached`: gunicorn (gunicorn.conf.py, HOST/PORT) behind Varnish (VARNISH_PORT); Ctrl-C stops both."""
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT") or 8000)
    varnish_port = int(os.environ.get("VARNISH_PORT") or 6081)
    env = {
        **os.environ,
        "GUNICORN_BIND": f"{host}:{port}",
        "NEWSROOM_PURGE_URLS": os.environ.get("NEWSROOM_PURGE_URLS") or f"http://127.0.0.1:{varnish_port}",
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "newsroom.wsgi"]
    gunicorn = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        workdir = ROOT / "var" / f"varnish-{varnish_port}"
        with varnishd(varnish_port, port, env=env, workdir=workdir):
            print(
                f"Varnish on http://127.0.0.1:{varnish_port}/ in front of gunicorn on http://{host}:{port}/ "
                f"(purges: {env['NEWSROOM_PURGE_URLS']}; varnishstat -n {workdir / 'varnishd'}). Ctrl-C stops both.",
                flush=True,
            )
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            gunicorn.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if gunicorn.poll() is None:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
    return gunicorn.returncode or 0


if __name__ == "__main__":
    sys.exit(serve())
