"""Stop with open WebSockets: TERM sends close 1012 (Service Restart) to every client, the app
sees websocket.disconnect, and only then does lifespan shutdown run; a stop never hangs on a
WebSocket: it returns within graceful_timeout plus a margin, even when the app ignores the
disconnect and the clients never answer the close.
"""
import signal
import time

from wsharness import asgi_app_only, connect, pyserver, requires_python, ws_server  # noqa: F401

pytestmark = [requires_python, asgi_app_only]

# What a stop may take beyond graceful_timeout: the master's own steps, a spawned worker, a
# sanitizer build. Generous on purpose: the test is about never hanging, not about speed.
MARGIN = 5.0


def open_clients(srv, path, n):
    clients = []
    try:
        for _ in range(n):
            clients.append(connect(srv, path, timeout=10))
    except BaseException:
        for c in clients:
            c.close()
        raise
    return clients


def test_term_closes_open_websockets_with_1012(ws_server, tmp_path):
    """1,000 open WebSockets: after TERM each gets close 1012, the app sees 1,000 disconnects
    with 1012 before lifespan.shutdown, and the server exits 0 within graceful_timeout +
    margin.
    uvicorn 0.17.6 has no graceful_timeout setting (skipped there; without it, it drops TCP
    with no close frame); hypercorn 0.13 closes with 1000 and its app gets no disconnect
    before lifespan shutdown."""
    events = tmp_path / "events"
    srv = ws_server(env={"WS_APP_EVENTS": str(events)}, graceful_timeout="3s")
    clients = open_clients(srv, "/hold", 1000)
    try:
        start = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        for c in clients:
            c.expect_close(1012, timeout=3 + MARGIN)
            c.send_close(1012)
        assert srv.wait_exit(3 + MARGIN) == 0, srv.log()[-3000:]
        assert time.monotonic() - start < 3 + MARGIN
    finally:
        for c in clients:
            c.close()
    lines = events.read_text().splitlines()
    assert lines.count("disconnect 1012") == 1000, lines[:5]
    assert lines[-1] == "lifespan.shutdown" and lines.count("lifespan.shutdown") == 1


def test_term_does_not_hang_on_an_app_that_ignores_the_disconnect(ws_server, tmp_path):
    """The app never returns (it ignores the disconnect) and the clients never answer the
    close: after graceful_timeout the app's tasks are cancelled, lifespan shutdown still runs,
    every client got 1012 and then the TCP close, and the stop returns in time. hypercorn
    0.13 passes it but for the code (1000)."""
    events = tmp_path / "events"
    srv = ws_server(env={"WS_APP_EVENTS": str(events)}, graceful_timeout="1s")
    clients = open_clients(srv, "/hold?ignore=1", 20)
    try:
        start = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        for c in clients:
            c.expect_close(1012, timeout=1 + MARGIN)
        assert srv.wait_exit(1 + MARGIN) is not None, "the stop hung"
        assert time.monotonic() - start < 1 + MARGIN
        for c in clients:
            c.assert_tcp_closed(timeout=2)
    finally:
        for c in clients:
            c.close()
    assert events.read_text().splitlines() == ["lifespan.shutdown"]
