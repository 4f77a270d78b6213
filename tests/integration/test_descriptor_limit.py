"""The open-file limit (RLIMIT_NOFILE). At the limit, libuv accepts a new connection with a
descriptor it keeps in reserve and closes it at once: clients were dropped unanswered, with no
log line. Now the master warns at start when the limit is too low for max_connections, a worker
stops accepting before its descriptors run out (connections wait in the listen queue, as at
max_connections) and says so, and a worker whose app used the spare descriptors up says that
connections are being dropped. Each line at most every 10 s."""

import resource
import socket
import subprocess
import time

from conftest import ASGID_BIN
from master_util import log_lines, wait_for
from python_apps.harness import get, pyserver, requires_python  # noqa: F401
from rawhttp import request_bytes

LIMIT = 128


def start_limited(srv, limit=LIMIT):
    """Starts the server's configuration with soft and hard RLIMIT_NOFILE at `limit` (so the
    master cannot raise it). The fixture still stops it."""
    def lower_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    srv.proc = subprocess.Popen(
        [str(ASGID_BIN), "-c", str(srv.ini_path)], stdout=open(srv.stdout_path, "wb"),
        stderr=open(srv.log_path, "wb"), stdin=subprocess.DEVNULL, env=srv.env, cwd=srv.workdir,
        start_new_session=True, preexec_fn=lower_limit)
    srv.wait_ready()
    return srv


def answered(conn):
    """'ok' when a response arrived, 'closed' when the server closed the connection without
    one, 'waiting' when nothing came (yet)."""
    try:
        data = conn.recv(4096)
    except socket.timeout:
        return "waiting"
    except ConnectionResetError:
        return "closed"
    return "ok" if data.startswith(b"HTTP/1.1 200") else "closed"


def test_at_the_descriptor_limit_connections_wait_and_the_worker_says_so(server):
    srv = server(workers=1, keepalive_timeout="60s", header_timeout="60s", start=False)
    start_limited(srv)
    warning = log_lines(srv.log(), "[master]", f"the open-file limit (RLIMIT_NOFILE) is {LIMIT}",
                        "too low for max_connections 4096")
    assert len(warning) == 1, srv.log()
    srv.wait_workers(1)
    room = wait_for(lambda: log_lines(srv.log(), "accepting at most"), 5)
    assert room, srv.log()

    # More clients than descriptors, each holding its keep-alive connection open.
    conns = []
    try:
        for _ in range(LIMIT + 40):
            conn = socket.create_connection((srv.host, srv.port), timeout=5)
            conn.sendall(request_bytes("GET", "/pid"))
            conns.append(conn)
        time.sleep(1.0)
        for conn in conns:
            conn.settimeout(0.05)
        states = [answered(conn) for conn in conns]
        assert "closed" not in states, f"connections dropped: {states.count('closed')}"
        served = states.count("ok")
        assert 0 < served < LIMIT, states
        assert log_lines(srv.log(), "[worker 1]", f"{served} connections open, all the open-file "
                         "limit leaves room for (max_connections 4096)"), srv.log()

        # As served clients leave, the waiting ones are served: nobody is dropped. There may be
        # more waiting than the worker has room for (LIMIT + 40 - served against served): each
        # leaves once answered, making room for the next.
        for conn, state in zip(conns, states):
            if state == "ok":
                conn.close()
        pending = [conn for conn, state in zip(conns, states) if state == "waiting"]
        outcomes = []
        for conn in pending:
            conn.settimeout(5)
            outcomes.append(answered(conn))
            conn.close()
        assert outcomes == ["ok"] * len(pending)
    finally:
        for conn in conns:
            conn.close()
    # The pause was said once, not per connection.
    assert len(log_lines(srv.log(), "all the open-file limit leaves room for")) == 1


HOG_APP = """
import os

held = []

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["path"] == "/hog":
        try:
            while True:
                held.append(os.open("/dev/null", os.O_RDONLY))
        except OSError:
            pass
    elif scope["path"] == "/release":
        while held:
            os.close(held.pop())
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(len(held)).encode()})
"""


@requires_python
def test_a_worker_whose_app_took_every_descriptor_says_connections_are_dropped(pyserver,
                                                                              tmp_path):
    (tmp_path / "hog_app.py").write_text(HOG_APP)
    srv = pyserver("hog_app:app", app_dir=tmp_path, workers=1, start=False)
    start_limited(srv)
    srv.wait_workers(1)
    with srv.raw() as conn:
        conn.send(request_bytes("GET", "/hog"))
        held = int(conn.read_response().body)
        assert held > 0
        line = wait_for(lambda: log_lines(srv.log(), "[worker 1]", "no file descriptor left "
                                          f"(open-file limit {LIMIT}",
                                          "new connections are closed unanswered"), 5)
        assert line, srv.log()
        conn.send(request_bytes("GET", "/release"))
        assert conn.read_response().body == b"0"
    assert get(srv, "/").status == 200
