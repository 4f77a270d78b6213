"""Graceful stop (SIGTERM, DESIGN §3): in-flight requests finish, idle keep-alive connections
are closed at once, the process exits 0."""

import signal
import threading
import time

from rawhttp import request_bytes


def test_in_flight_request_finishes_after_sigterm(server):
    srv = server(worker_class="thread", threads=2, graceful_timeout="5s")
    result = {}

    def slow_request():
        try:
            result["resp"] = srv.request(request_bytes("GET", "/sleep?ms=800"))
        except Exception as exc:  # reported by the assertion below
            result["error"] = exc

    t = threading.Thread(target=slow_request)
    t.start()
    time.sleep(0.3)  # the request is inside the app now
    srv.proc.send_signal(signal.SIGTERM)
    t.join(timeout=10)
    assert "resp" in result, result.get("error")
    assert result["resp"].status == 200
    assert result["resp"].body == b"slept"
    assert srv.wait_exit(timeout=10) == 0, srv.log()


def test_idle_keepalive_connection_closed_at_stop(server):
    srv = server(keepalive_timeout="30s", graceful_timeout="10s")
    with srv.raw(timeout=10) as conn:
        conn.send(request_bytes("GET", "/echo"))
        assert conn.read_response().status == 200
        start = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        # Not after the 30 s keep-alive timeout, nor after the 10 s graceful timeout.
        assert conn.is_closed(timeout=5)
        assert srv.wait_exit(timeout=5) == 0, srv.log()
    assert time.monotonic() - start < 5


def test_sigterm_on_an_idle_server_exits_zero_quickly(server):
    srv = server()
    start = time.monotonic()
    assert srv.stop() == 0, srv.log()
    assert time.monotonic() - start < 3
