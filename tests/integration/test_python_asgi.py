"""Python ASGI 3.0 apps: the HTTP scope and the receive() events (python_apps/probe.py).

Scope fields (asgi versions, http_version, decoded path and raw_path, query_string, root_path,
headers, client/server, state), request bodies as http.request chunks with more_body,
http.disconnect only after the body once the response is done or the client left,
100-continue on the first receive(), concurrent and cancelled receive() calls, and
receive() wrapped in asyncio.create_task (channels does that).
"""
import json
import time

import pytest

from python_apps.harness import (PROBE, get, get_json, pyserver, requires_python,  # noqa: F401
                                 wait_result)
from conftest import free_port
from rawhttp import RawConnection, request_bytes

pytestmark = requires_python


@pytest.fixture(params=["asyncio", "uvloop"])
def probe(request, pyserver):
    return pyserver(PROBE, worker_class=request.param)


def scope_of(srv, target="/scope", **kwargs):
    return get_json(srv, target, **kwargs)


def test_asgi_versions_and_types(probe):
    scope = scope_of(probe)
    assert scope["type"] == "http"
    assert scope["asgi"]["version"] == "3.0"
    assert scope["asgi"]["spec_version"] == "2.3"
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    types = scope["types"]
    assert types["path"] == "str" and types["raw_path"] == "bytes"
    assert types["query_string"] == "bytes" and types["root_path"] == "str"
    assert types["headers"] in ("list", "tuple")
    assert scope["header_types"] == ["bytes,bytes"]


def test_path_decoded_raw_path_and_query_kept(probe):
    scope = scope_of(probe, "/scope/a%20b/%C3%A9/x%2Fy?q=%2F&x=1+2")
    assert scope["path"] == "/scope/a b/é/x/y"  # percent-decoded, then UTF-8 (as uvicorn)
    assert scope["raw_path"] == "/scope/a%20b/%C3%A9/x%2Fy"
    assert scope["query_string"] == "q=%2F&x=1+2"


def test_empty_query_string_is_empty_bytes(probe):
    scope = scope_of(probe)
    assert scope["query_string"] == ""
    assert scope["types"]["query_string"] == "bytes"


def test_headers_lowercased_in_order_with_duplicates(probe):
    resp = get(probe, "/scope", headers=[("X-B", "1"), ("X-A", "two words"), ("x-b", "3")])
    headers = json.loads(resp.body)["headers"]
    assert headers[0] == ["host", "t"]
    assert headers[1:4] == [["x-b", "1"], ["x-a", "two words"], ["x-b", "3"]]


def test_client_and_server_addresses(probe):
    with probe.raw() as conn:
        port = conn.local_port()
        conn.send(request_bytes("GET", "/scope"))
        scope = json.loads(conn.read_response().body)
    assert scope["client"] == ["127.0.0.1", port]
    assert scope["server"] == ["127.0.0.1", probe.port]
    assert scope["types"]["client"] in ("tuple", "list")


def test_http10_scope(probe):
    with probe.raw() as conn:
        conn.send(b"GET /scope HTTP/1.0\r\n\r\n")
        resp = conn.read_response()
        assert json.loads(resp.body)["http_version"] == "1.0"
        assert conn.is_closed(), "HTTP/1.0 without keep-alive must be closed"


def test_root_path_from_settings_starts_path(pyserver):
    # The ASGI spec, uvicorn >= 0.26 and Starlette >= 0.33: path carries root_path.
    srv = pyserver(PROBE, root_path="/mount")
    scope = scope_of(srv, "/scope")
    assert scope["root_path"] == "/mount"
    assert scope["path"] == "/mount/scope"


def test_server_address_of_each_listener_in_turn(pyserver, short_tmp):
    # The worker keeps the last address strings it built (up to a length): requests that
    # alternate between listeners, two Unix sockets among them (one path too long to keep),
    # must each get their own listener's address.
    short, long = str(short_tmp / "s.sock"), str(short_tmp / ("l" * 70 + ".sock"))
    port = free_port()
    srv = pyserver(PROBE, bind=[f"127.0.0.1:{port}", f"unix:{short}", f"unix:{long}"])
    for _ in range(3):
        for path in (short, long, short):
            with RawConnection.unix(path) as conn:
                conn.send(request_bytes("GET", "/scope"))
                assert json.loads(conn.read_response().body)["server"] == [path, None]
        assert scope_of(srv)["server"] == ["127.0.0.1", port]


def test_unix_socket_server_is_path_and_none(pyserver, short_tmp):
    sock = short_tmp / "py.sock"
    srv = pyserver(PROBE, bind=f"unix:{sock}")
    scope = scope_of(srv)
    assert scope["server"] == [str(sock), None]
    # No peer address on a Unix socket: None (uvicorn) or an empty host.
    assert scope["client"] is None or scope["client"][0] in ("", None), scope["client"]


def test_state_is_a_shallow_copy_per_request(probe):
    first = get_json(probe, "/state")
    assert first["greeting"] == "hello"
    assert "added" not in first
    second = get_json(probe, "/state")
    # The key the first request added to its copy is not in the next one...
    assert "added" not in second
    # ...but the copy is shallow: the list both share kept the first request's append.
    assert second["log"] == ["x"]


def test_body_arrives_as_chunks_with_more_body(probe):
    body = b"z" * (1 << 20)
    resp = get(probe, "/chunks", method="POST", body=body)
    assert resp.status == 200, resp
    chunks = json.loads(resp.body)
    assert all(c[0] == "http.request" for c in chunks)
    assert all(c[3] == "bytes" for c in chunks)
    assert sum(c[1] for c in chunks) == len(body)
    assert [c[2] for c in chunks] == [True] * (len(chunks) - 1) + [False]


def test_chunked_request_body(probe):
    data = b"4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n"
    resp = probe.request(request_bytes("POST", "/echo",
                                       headers=[("Transfer-Encoding", "chunked")], body=data))
    assert resp.status == 200
    assert resp.body == b"abcdefg"


def test_get_without_body_gives_one_empty_request_message(probe):
    chunks = get_json(probe, "/chunks")
    assert chunks == [["http.request", 0, False, "bytes"]]


def test_receive_after_body_waits_for_response_completion(probe):
    # Nothing but http.disconnect may follow the body, and not before the response is done
    # (even for GET: Unit #564).
    resp = get(probe, "/after-body?key=ab")
    assert resp.body == b"pending=True"
    assert wait_result(probe, "ab", lambda v: "then=" in v) == \
        "pending=True early=None then=http.disconnect"


def test_disconnect_when_client_leaves(probe):
    conn = RawConnection(probe.host, probe.port, timeout=5)
    conn.send(request_bytes("GET", "/wait-disconnect?key=wd"))
    assert wait_result(probe, "wd", lambda v: v == "waiting") == "waiting"
    conn.close()
    assert wait_result(probe, "wd", lambda v: v != "waiting") == "http.disconnect"


def test_send_after_disconnect_is_a_silent_no_op(probe):
    # spec_version 2.3: sending on a closed connection neither raises nor blocks.
    conn = RawConnection(probe.host, probe.port, timeout=5)
    conn.send(request_bytes("GET", "/send-after-disconnect?key=sad"))
    assert wait_result(probe, "sad", lambda v: v == "waiting") == "waiting"
    conn.close()
    assert wait_result(probe, "sad", lambda v: v != "waiting") == "ok"
    probe.assert_serves()


def test_concurrent_receive_from_two_tasks(probe):
    resp = get(probe, "/receive-twice?key=rt")
    assert resp.body == b"first=['http.request']"
    value = wait_result(probe, "rt", lambda v: v.startswith("first="))
    assert value == "first=['http.request'] all=['http.disconnect', 'http.request'] pending=0"


def test_receive_in_create_task(probe):
    resp = get(probe, "/create-task-receive", method="POST", body=b"via task")
    assert resp.status == 200, resp
    assert resp.body == b"via task"


def test_cancelled_receive_leaves_no_stale_waiter(probe):
    with probe.raw() as conn:
        conn.send(request_bytes("POST", "/cancel-receive?key=cancel-receive",
                                headers=[("Content-Length", "5")]))
        # The body goes only once the app has cancelled its first receive(): a fixed sleep
        # lost that race on a busy machine, and the body came first ("hello (early)").
        deadline = time.monotonic() + 10
        while get(probe, "/result?key=cancel-receive").body != b"cancelled":
            assert time.monotonic() < deadline, "the app never cancelled its receive()"
            time.sleep(0.05)
        conn.send(b"hello")
        resp = conn.read_response()
    assert resp.status == 200, resp
    assert resp.body == b"hello (cancelled)"


def test_dropped_receive_loses_no_event(probe):
    resp = get(probe, "/drop-receive", method="POST", body=b"payload")
    assert resp.status == 200, resp
    assert resp.body == b"got payload"


def test_receive_cancelled_after_its_event_loses_no_event(probe):
    with probe.raw() as conn:
        conn.send(request_bytes("POST", "/cancel-after-event?key=cancel-after-event",
                                headers=[("Content-Length", "7")]))
        # The body goes only once the app's task waits in receive(): after a fixed sleep, a
        # busy machine read the body with the headers and the task never waited.
        deadline = time.monotonic() + 10
        while get(probe, "/result?key=cancel-after-event").body != b"waiting":
            assert time.monotonic() < deadline, "the app's task never waited in receive()"
            time.sleep(0.05)
        conn.send(b"payload")
        resp = conn.read_response()
    assert resp.status == 200, resp
    assert resp.body == b"cancelled payload"


def test_callables_outlive_the_app(probe):
    # A task the app left behind, waiting in receive() when the app returned, hears
    # http.disconnect (as under uvicorn), and its late send() raises instead of reaching a
    # finished request.
    resp = get(probe, "/leave-task?key=lt")
    assert resp.body == b"left"
    value = wait_result(probe, "lt", lambda v: v != "waiting")
    assert value == ("http.disconnect RuntimeError: unexpected ASGI message "
                     "'http.response.body' after the app returned")


def test_100_continue_on_first_receive(probe):
    with probe.raw() as conn:
        conn.send(request_bytes("POST", "/read-then-answer",
                                headers=[("Content-Length", "3"), ("Expect", "100-continue")]))
        interim = conn.read_response(interim=True)
        assert interim.status == 100
        conn.send(b"abc")
        resp = conn.read_response()
    assert resp.status == 200
    assert resp.body == b"got 3"


def test_no_100_continue_when_body_never_read(probe):
    with probe.raw() as conn:
        conn.send(request_bytes("POST", "/no-read",
                                headers=[("Content-Length", "3"), ("Expect", "100-continue")]))
        resp = conn.read_response(interim=True)
        assert resp.status == 200, "100 Continue sent although the app never read the body"
        assert resp.body == b"not read"
        # The unsent body cannot be told from a next request: the server must close (or
        # wait for the 3 bytes and keep going; then the next request works).
        try:
            conn.send(b"abc" + request_bytes("GET", "/pid"))
        except OSError:
            return
        try:
            nxt = conn.read_response()
        except Exception:  # noqa: BLE001 - closed: acceptable
            return
        assert nxt.status == 200 and nxt.body.isdigit(), nxt


def test_keepalive_and_pipelining_stay_in_order(probe):
    with probe.raw() as conn:
        conn.send(b"".join(request_bytes("GET", f"/status?code={200 + i}") for i in range(10)))
        statuses = [conn.read_response().status for _ in range(10)]
    assert statuses == list(range(200, 210))


def test_concurrent_requests_interleave(probe):
    # Five requests sleeping 400 ms each on separate connections: one asyncio loop must run
    # them at once, not one after another.
    conns = [RawConnection(probe.host, probe.port, timeout=5) for _ in range(5)]
    started = time.monotonic()
    for c in conns:
        c.send(request_bytes("GET", "/sleep?ms=400"))
    for c in conns:
        assert c.read_response().body == b"slept"
        c.close()
    assert time.monotonic() - started < 1.6


def test_connection_close_from_client_is_honoured(probe):
    with probe.raw() as conn:
        conn.send(request_bytes("GET", "/pid", headers=[("Connection", "close")]))
        resp = conn.read_response()
        assert resp.status == 200
        assert (resp.header("connection") or "").lower() == "close"
        assert conn.is_closed()


def test_request_body_flow_control(probe):
    # The app takes one chunk, then sleeps 1 s: the server must stop reading the upload
    # (uvicorn pauses at 64 KiB buffered) instead of buffering all of it for the app.
    total = 64 << 20
    with probe.raw(timeout=10, rcvbuf=None) as conn:
        conn.send(request_bytes("POST", "/slow-consume?ms=1500",
                                headers=[("Content-Length", str(total))]))
        conn.sock.setblocking(False)
        chunk = b"u" * 65536
        accepted = 0
        deadline = time.monotonic() + 0.8
        while time.monotonic() < deadline and accepted < total:
            try:
                accepted += conn.sock.send(chunk[:min(len(chunk), total - accepted)])
            except BlockingIOError:
                time.sleep(0.01)
        # Kernel socket buffers on both sides hold a few MiB at most.
        assert accepted < 24 << 20, f"{accepted} bytes accepted while the app was not reading"
        conn.sock.setblocking(True)
        conn.sock.settimeout(20)
        while accepted < total:
            accepted += conn.sock.send(chunk[:min(len(chunk), total - accepted)])
        resp = conn.read_response()
    assert resp.status == 200
    assert resp.body == str(total).encode()
