"""nginx in front of asgid, as the docs set it up: run as this user, in a test's folder, on
loopback."""

import getpass
import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

requires_nginx = pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed")


def start_nginx(prefix, http_block, ready_url):
    """Starts nginx with http_block (server blocks, or an include) in its http block, its
    files in the folder prefix (made here if it is not there); returns the process once ready_url answers."""
    prefix.mkdir(exist_ok=True)
    # As root, nginx's workers would switch to nobody, who cannot enter the test's folders.
    user_line = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(f"""
daemon off;
{user_line}
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
{http_block}
}}
""")
    proc = subprocess.Popen([NGINX, "-e", str(prefix / "error.log"), "-p", str(prefix),
                             "-c", str(prefix / "nginx.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(ready_url, timeout=1)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None:
                pytest.fail(f"nginx exited: {proc.stderr.read().decode()}"
                            f"{(prefix / 'error.log').read_text()}")
            time.sleep(0.05)
    proc.kill()
    pytest.fail("nginx did not answer within 10 s")
