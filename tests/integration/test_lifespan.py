"""ASGI lifespan: startup completes before any request is served, its state reaches request
scopes, shutdown runs at a graceful stop, a failed startup stops the server, and apps
without lifespan support work with lifespan = auto but not with lifespan = on."""

import json
import socket
import time

from rawhttp import RawConnection, request_bytes


def test_first_request_sees_startup_state(server):
    # The probe's startup sleeps 300 ms before completing. Connect and send the instant the
    # port accepts: the request must still only be served after startup completed.
    srv = server(start=False, env={"PROBE_STARTUP_DELAY_MS": "300"})
    started = time.monotonic()
    srv.start(wait=False)
    deadline = started + 10
    while True:
        assert srv.proc.poll() is None, srv.log()
        try:
            conn = RawConnection(srv.host, srv.port, timeout=5)
            break
        except OSError:
            assert time.monotonic() < deadline, "server never accepted"
            time.sleep(0.005)
    with conn:
        conn.send(request_bytes("GET", "/scope"))
        resp = conn.read_response()
    answered = time.monotonic() - started
    assert resp.status == 200
    assert json.loads(resp.body)["state"] == "probe-state"
    assert answered >= 0.3, "answered before the 300 ms lifespan startup could complete"


def test_shutdown_runs_on_graceful_stop(server, tmp_path):
    marker = tmp_path / "shutdown-ran"
    srv = server(env={"PROBE_SHUTDOWN_FILE": str(marker)})
    srv.assert_serves()
    assert not marker.exists(), "shutdown ran while the server was still serving"
    assert srv.stop() == 0, srv.log()
    assert marker.read_text() == "shutdown"


def test_startup_failure_stops_the_server_with_the_message(server):
    srv = server(env={"PROBE_LIFESPAN_FAIL": "1"}, wait=False)
    code = srv.wait_exit(timeout=10)
    assert code is not None, "server still running after its app's startup failed"
    assert code != 0
    assert "startup failed on purpose" in srv.log()


def test_lifespan_off_gives_no_state(server):
    srv = server(lifespan="off")
    resp = srv.request(request_bytes("GET", "/scope"))
    assert resp.status == 200
    assert json.loads(resp.body)["state"] is None


def test_lifespan_off_does_not_run_the_failing_startup(server):
    # With lifespan off, the app's lifespan handler is never called at all.
    srv = server(lifespan="off", env={"PROBE_LIFESPAN_FAIL": "1"})
    srv.assert_serves()


def test_app_without_lifespan_works_with_lifespan_auto(server):
    srv = server(app="hello", lifespan="auto")
    resp = srv.request(request_bytes("GET", "/"))
    assert resp.status == 200
    assert resp.body == b"Hello, world!\n"


def test_app_without_lifespan_fails_with_lifespan_on(server):
    srv = server(app="hello", lifespan="on", wait=False)
    code = srv.wait_exit(timeout=10)
    assert code is not None and code != 0, "server started although lifespan = on is unmet"
    assert "lifespan" in srv.log().lower()
    # And it did not serve in the meantime.
    s = socket.socket()
    s.settimeout(1)
    try:
        assert s.connect_ex((srv.host, srv.port)) != 0
    finally:
        s.close()
