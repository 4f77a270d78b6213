"""A real browser: Debian's chromium, headless, loads a page served by asgid (ws_page.html from
python_apps/ws_app.py's /page), whose script opens a WebSocket to the same server with
permessage-deflate, exchanges a text and a 1 MiB binary message, and closes with 4001 "bye".
Both sides are asserted: the page's own log (from the dumped DOM and its POST to /report)
and what the app saw. uvicorn 0.17.6 passes all but the disconnect reason (spec 2.3);
hypercorn 0.13 reports the disconnect as 1006.
"""
import json
import shutil
import subprocess

import pytest

from python_apps.harness import wait_result
from wsharness import asgi_app_only, pyserver, requires_python, ws_server  # noqa: F401

pytestmark = [requires_python, asgi_app_only]

# As root, chromium needs --no-sandbox; the rest keeps it off the (closed) network and quiet.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-extensions"]


@pytest.mark.parametrize("worker_class", ["asyncio", "uvloop"])
def test_chromium_page_exchanges_messages_with_deflate(ws_server, tmp_path, worker_class):
    chromium = shutil.which("chromium")
    assert chromium, "chromium is not installed (scripts/setup.sh installs it)"
    srv = ws_server(worker_class=worker_class)
    out = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                          "--dump-dom", f"{srv.url}/page"],
                         capture_output=True, text=True, timeout=40)
    assert out.returncode == 0, out.stderr[-3000:]
    page_log = json.loads(wait_result(srv, "page", bool))
    assert page_log[0].startswith("open permessage-deflate"), page_log
    assert page_log[1:] == ["text hello ü", "binary 1048576 same", "result echoed",
                            "close 4001 bye true"]
    assert f"DONE {json.dumps(page_log, ensure_ascii=False, separators=(',', ':'))}" in out.stdout
    seen = json.loads(wait_result(srv, "browser", bool))
    assert seen[:2] == ["text 7", "bytes 1048576"]
    assert seen[2].startswith("RESULT ")
    assert seen[3:] == ["disconnect 4001 bye"]
