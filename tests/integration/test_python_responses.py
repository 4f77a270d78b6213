"""Python ASGI responses and faults (python_apps/probe.py), uvicorn's rules: a 500 when the
app sent nothing or raised before starting, the connection closed when a response is left
incomplete, RuntimeError for messages out of order and for bad headers, content-length
enforced, HEAD/204/304 without a body, chunked or content-length framing, tracebacks in the
error log. After every fault the worker keeps serving."""
import re
import time

import pytest

from master_util import wait_for
from python_apps.harness import (PROBE, get, pyserver, requires_python,  # noqa: F401
                                 result, wait_result)
from rawhttp import request_bytes

pytestmark = requires_python


@pytest.fixture(params=["asyncio", "uvloop"])
def probe(request, pyserver):
    return pyserver(PROBE, worker_class=request.param)


def test_no_response_gives_500(probe):
    resp = get(probe, "/no-response")
    assert resp.status == 500
    probe.assert_serves("/pid")


def test_exception_before_start_gives_500_close_and_traceback(probe):
    with probe.raw() as conn:
        conn.send(request_bytes("GET", "/raise-before"))
        resp = conn.read_response()
        assert resp.status == 500
        assert (resp.header("connection") or "").lower() == "close"
        assert conn.is_closed()
    log = probe.log()
    assert "Traceback (most recent call last)" in log, log
    assert "ValueError: boom-before" in log, log
    assert re.search(r'probe\.py", line \d+, in r_raise_before', log), log
    probe.assert_serves("/pid")


def test_exception_after_start_aborts_the_response(probe):
    with probe.raw() as conn:
        conn.send(request_bytes("GET", "/raise-after"))
        resp = conn.read_response()
        assert resp.status == 200
        assert not resp.complete, "an aborted response must not look complete"
        assert resp.body == b"partial"
    assert "ValueError: boom-after" in probe.log()
    probe.assert_serves("/pid")


def test_incomplete_response_closes_the_connection(probe):
    with probe.raw() as conn:
        conn.send(request_bytes("GET", "/partial"))
        resp = conn.read_response()
    assert resp.status == 200
    assert resp.header("content-length") == "100"
    assert not resp.complete
    assert resp.body == b"0123456789"
    probe.assert_serves("/pid")


def test_body_longer_than_content_length_is_refused(probe):
    with probe.raw() as conn:
        conn.send(request_bytes("GET", "/too-long?key=tl"))
        try:
            data = conn.read_until_close(timeout=5)
        except OSError:
            data = conn.buf
    # Never more than the 5 bytes promised reach the client (the server may send the head
    # and close, or close without a response); the connection ends either way.
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"56789" not in data, data
    assert len(body) <= 5, data
    assert wait_result(probe, "tl", lambda v: v != "<none>").startswith("RuntimeError")
    probe.assert_serves("/pid")


@pytest.mark.parametrize("kind", ["body-first", "double-start", "unknown-type"])
def test_out_of_order_messages_raise_runtime_error(probe, kind):
    resp = get(probe, f"/order?kind={kind}&key=o-{kind}")
    assert resp.status == 200, resp
    assert resp.body.startswith(b"caught RuntimeError"), resp.body
    probe.assert_serves("/pid")


def test_body_after_completion_raises_runtime_error(probe):
    resp = get(probe, "/order?kind=after-complete&key=oac")
    assert resp.status == 200
    assert resp.body == b"done"
    value = wait_result(probe, "oac", lambda v: v != "<none>")
    assert value.startswith("RuntimeError"), value


def test_start_after_body_raises_runtime_error(probe):
    resp = get(probe, "/order?kind=start-after-body&key=osab")
    assert resp.status == 200
    assert resp.body == b"xy"
    assert result(probe, "osab").startswith("RuntimeError")


@pytest.mark.parametrize("kind", ["cr", "lf", "crlf", "nul", "name-space", "name-colon",
                                  "name-crlf"])
def test_bad_response_headers_raise_and_leave_no_trace(probe, kind):
    with probe.raw() as conn:
        conn.send(request_bytes("GET", f"/bad-header?kind={kind}"))
        resp = conn.read_response()
        assert resp.status == 200, resp
        assert resp.body == b"refused:RuntimeError", resp.body
        assert resp.header("x-injected") is None, resp.headers
        assert resp.header("x-probe") is None, resp.headers
        conn.send(request_bytes("GET", "/pid"))
        assert conn.read_response().status == 200


def test_head_suppresses_the_body(probe):
    with probe.raw() as conn:
        conn.send(request_bytes("HEAD", "/body-for-head") + request_bytes("GET", "/pid"))
        resp = conn.read_response(head=True)
        assert resp.status == 200
        assert resp.header("content-length") == "5"
        nxt = conn.read_response()
        assert nxt.status == 200 and nxt.body.isdigit(), nxt


@pytest.mark.parametrize("code", [204, 304])
def test_no_body_statuses(probe, code):
    with probe.raw() as conn:
        conn.send(request_bytes("GET", f"/status?code={code}") + request_bytes("GET", "/pid"))
        resp = conn.read_response()
        assert resp.status == code
        assert resp.header("transfer-encoding") is None
        assert resp.header("content-length") in (None, "0")
        nxt = conn.read_response()
        assert nxt.status == 200 and nxt.body.isdigit(), nxt


def test_streamed_response_without_length_is_chunked(probe):
    resp = get(probe, "/stream?n=5")
    assert resp.status == 200
    assert resp.header("transfer-encoding") == "chunked"
    assert resp.body == b"0\n1\n2\n3\n4\n"


def test_single_body_without_length_is_framed(probe):
    with probe.raw() as conn:
        conn.send(request_bytes("GET", "/single") + request_bytes("GET", "/pid"))
        resp = conn.read_response()
        assert resp.body == b"single body"
        assert resp.header("content-length") == "11" or \
            resp.header("transfer-encoding") == "chunked"
        assert conn.read_response().status == 200


def test_large_streamed_body(probe):
    size = 8 << 20
    resp = get(probe, f"/large?size={size}")
    assert resp.status == 200
    assert resp.complete
    assert len(resp.body) == size


def test_echo_large_body_both_ways(probe):
    body = bytes(range(256)) * 8192  # 2 MiB
    resp = get(probe, "/echo", method="POST", body=body)
    assert resp.status == 200
    assert resp.body == body


def test_http10_streamed_response_ends_with_close(probe):
    with probe.raw() as conn:
        conn.send(b"GET /stream?n=3 HTTP/1.0\r\n\r\n")
        data = conn.read_until_close(timeout=5)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.")
    assert b"chunked" not in head.lower()
    assert body == b"0\n1\n2\n"


def test_app_output_on_stderr_reaches_the_error_log(probe):
    assert get(probe, "/print?msg=asgid-py-stderr-marker").body == b"printed"
    assert wait_for(lambda: "asgid-py-stderr-marker" in probe.log(), 5)


def test_non_none_return_value_still_serves(probe):
    assert get(probe, "/return-value").body == b"returned"
    probe.assert_serves("/pid")


def test_send_waits_for_a_slow_reader(probe):
    # A client that reads nothing: the app's send() must block once the connection's
    # buffers are full rather than queue the whole 64 MiB response in the worker.
    size = 64 << 20
    with probe.raw(timeout=20, rcvbuf=65536) as conn:
        conn.send(request_bytes("GET", f"/produce?size={size}&key=slow"))
        time.sleep(1.0)
        accepted = int(result(probe, "slow"))
        assert 0 < accepted < 24 << 20, f"send() accepted {accepted} bytes nobody read"
        got = 0
        conn.sock.settimeout(20)
        head_done = False
        buf = b""
        while got < size:
            data = conn.sock.recv(1 << 20)
            assert data, "connection closed early"
            if not head_done:
                buf += data
                if b"\r\n\r\n" in buf:
                    head_done = True
                    got = len(buf.partition(b"\r\n\r\n")[2])
                continue
            got += len(data)
    assert got == size
    assert result(probe, "slow") == str(size)


def test_a_response_is_not_held_back_by_the_rest_of_a_long_pass(probe, tmp_path):
    """Responses made in one loop pass leave together at its end, so a client waiting for
    several is woken once (docs/architecture.md, "One request"); but a response older than a
    millisecond leaves at the end of the next callback, not after the whole pass. Three
    requests arrive while the worker's loop spins on a fourth, so they are read in one pass:
    A (answered at once), B (spins 50 ms), C (blocks the loop until A's client has its answer,
    which the test signals with a file). Held to the end of the pass, A's answer would come
    only after C gave up."""
    marker = tmp_path / "a-answered"
    with probe.raw() as busy, probe.raw() as a, probe.raw() as b, probe.raw() as c:
        # Each connection is accepted and watched before the scenario: a request sent before
        # the worker accepts its connection is seen in the order libuv registers sockets, not
        # in the order the requests came (libuv 1.50 on a loaded machine: C before A).
        for conn in (busy, a, b, c):
            conn.send(request_bytes("GET", "/status?code=204"))
            assert conn.read_response().status == 204
        busy.send(request_bytes("GET", "/spin?ms=300"))
        time.sleep(0.1)  # the loop is spinning: A, B and C wait in the kernel, in this order
        a.send(request_bytes("GET", "/status?code=200"))
        b.send(request_bytes("GET", "/spin?ms=50"))
        c.send(request_bytes("GET", f"/wait-file?path={marker}"))
        assert a.read_response().status == 200
        marker.write_text("A answered")
        assert c.read_response().body == b"seen"
        assert busy.read_response().body == b"spun"
        assert b.read_response().body == b"spun"
