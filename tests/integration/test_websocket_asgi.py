"""ASGI WebSocket behaviour (spec 2.5 and the websocket.http.response extension), seen from the
app (python_apps/ws_app.py records what it got; GET /result?key=K tells) and from the wire.
Every test runs on the asyncio and the uvloop worker class.

Decision where the spec is silent: an accept whose subprotocol the client did not offer is
refused by the server: the app's `send` raises, and if the app lets that propagate it is an
exception before accept, answered 500, with an error log line naming the subprotocol rule.

References (ASGID_WS_REFERENCE): uvicorn 0.17.6 (spec 2.3) passes 9 of the 27 cases:
no disconnect reason, RuntimeError on a late send, no 1011 after an exception (TCP dropped),
no denial extension, no subprotocol check, app close codes sent unchecked. hypercorn 0.13.2
passes 7: disconnect codes are only 1006 (hypercorn#127), a late send is ignored or raises
UnexpectedMessageError, 1000 after an exception, and a refused subprotocol hangs the
handshake (as do refused accept headers). The docstrings name the cases.
"""
import itertools
import json
import socket
import struct
import time

import pytest

from python_apps.harness import wait_result
from wsframes import OP_BINARY, OP_TEXT, HandshakeRefused, build_frame
from wsharness import (asgi_app_only, connect, pyserver,  # noqa: F401
                       requires_python, start_shared, stop_shared, ws_server)

pytestmark = [requires_python, asgi_app_only]

_keys = itertools.count()


def new_key(name):
    return f"{name}-{next(_keys)}"


@pytest.fixture(scope="module", params=["asyncio", "uvloop"])
def asgi_server(request, tmp_path_factory):
    srv = start_shared(tmp_path_factory.mktemp(request.param), worker_class=request.param)
    yield srv
    stop_shared(srv)


@pytest.fixture
def srv(request, asgi_server):
    request.node._asgid_servers = [asgi_server]
    return asgi_server


def recorded(srv, key):
    """The non-empty value the app recorded under key (waits for it)."""
    value = wait_result(srv, key, bool)
    assert value, f"the app recorded nothing under {key}"
    return value


def test_empty_messages_keep_their_type(srv):
    """An empty text message and an empty binary message reach the app as "" and b"" (not
    dropped, not confused), and come back so. uvicorn's sansio backend and daphne dropped
    them (study, pain point 8)."""
    key = new_key("empty")
    with connect(srv, "/echo") as c:
        c.send_message("")
        c.send_message(b"")
        assert c.recv_message() == (OP_TEXT, b"")
        assert c.recv_message() == (OP_BINARY, b"")
        c.close_handshake(1000)
    with connect(srv, f"/record?key={key}") as c:
        c.send_message("")
        c.send_message(b"")
        c.close_handshake(1000)
    assert json.loads(recorded(srv, key))["messages"] == [["text", ""], ["bytes", ""]]


@pytest.mark.parametrize("ending", ["close", "tcp-drop"])
def test_buffered_messages_come_before_the_disconnect(srv, ending):
    """Messages the app had not received yet when the client left are all delivered, in
    order, before websocket.disconnect (uvicorn#1230), with the client's close code (or
    1006 when TCP dropped)."""
    key = new_key("buffered")
    with connect(srv, f"/record?key={key}&delay_ms=400") as c:
        for i in range(3):
            c.send_message(f"m{i}")
        c.send_message(b"\x00\xff")
        if ending == "close":
            c.close_handshake(4000, b"done")
        else:
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    got = json.loads(recorded(srv, key))
    assert got["messages"] == [["text", "m0"], ["text", "m1"], ["text", "m2"], ["bytes", "00ff"]]
    if ending == "close":
        assert (got["code"], got["reason"]) == (4000, "done")
    else:
        assert got["code"] == 1006


@pytest.mark.parametrize("how,expected", [
    ("4001 bye", "4001 bye"), ("1000", "1000"), ("3000 ünïcode", "3000 ünïcode"),
    ("no-code", "1005"), ("tcp-close", "1006"), ("tcp-reset", "1006")])
def test_disconnect_code_and_reason_reach_the_app(srv, how, expected):
    """websocket.disconnect carries the client's code and reason; 1005 for a close without a
    code; 1006 when TCP closed or reset without a close frame. hypercorn 0.13 reports only
    1000/1006 (hypercorn#127); uvicorn 0.17.6 sends no reason (spec 2.3)."""
    key = new_key("disconnect")
    c = connect(srv, f"/echo?key={key}")
    c.send_message("x")
    assert c.recv_message() == (OP_TEXT, b"x")
    if how == "no-code":
        c.close_handshake(None, expect={None, 1000})
    elif how == "tcp-reset":
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    elif how != "tcp-close":
        code, _, reason = how.partition(" ")
        c.close_handshake(int(code), reason.encode())
    c.close()
    assert recorded(srv, key) == expected


def test_send_after_close_raises_an_oserror(srv):
    """ASGI 2.4: a send after the app's own close raises an OSError subclass."""
    key = new_key("after-close")
    with connect(srv, f"/send-after-close?key={key}") as c:
        c.expect_close(1000)
        c.send_close(1000)
    assert recorded(srv, key).startswith("True "), recorded(srv, key)


def test_send_after_the_client_left_raises_an_oserror(srv):
    """ASGI 2.4: a send after websocket.disconnect raises an OSError subclass (and is not
    logged as an app error). uvicorn 0.17.6 raises RuntimeError."""
    key = new_key("after-disconnect")
    with connect(srv, f"/send-after-disconnect?key={key}") as c:
        c.close_handshake(1000)
    assert recorded(srv, key).startswith("True "), recorded(srv, key)


def test_app_end_after_accept(srv):
    """After accept, a normal return of the app closes with 1000 and an exception with 1011;
    then the server closes TCP."""
    with connect(srv, "/return") as c:
        c.expect_close(1000)
        c.send_close(1000)
        c.assert_tcp_closed()
    with connect(srv, "/raise-after") as c:
        c.expect_close(1011)
        c.send_close(1011)
        c.assert_tcp_closed()


@pytest.mark.parametrize("query", ["code=1005", "code=1006", "code=1015", "code=999",
                                   "code=2000", "code=5000", "code=1000&reason=" + "r" * 124])
def test_invalid_app_close_is_refused(srv, query):
    """The server never sends 1005, 1006, 1015 or another code invalid on the wire, nor a reason
    over 123 bytes: the app's close is refused (its send raises), which makes it an app
    exception after accept => 1011. uvicorn 0.17.6 sends whatever the app gave."""
    with connect(srv, f"/close?{query}") as c:
        c.expect_close(1011)
        c.send_close(1011)


def test_refusal_before_accept(srv):
    """Before accept: a close gives 403, an exception 500, and the denial extension
    (websocket.http.response) sends the app's own response, body in two parts."""
    with pytest.raises(HandshakeRefused) as refused:
        connect(srv, "/close-before-accept")
    assert refused.value.status == 403
    with pytest.raises(HandshakeRefused) as refused:
        connect(srv, "/raise-before")
    assert refused.value.status == 500
    with pytest.raises(HandshakeRefused) as refused:
        connect(srv, "/deny")
    assert refused.value.status == 401
    assert ("x-denied", "yes") in refused.value.headers
    assert refused.value.body == b"denied"


def test_accept_before_receiving_connect(srv):
    """Many apps send websocket.accept before awaiting websocket.connect: that order works."""
    with connect(srv, "/accept-first") as c:
        c.send_message("first")
        assert c.recv_message() == (OP_TEXT, b"first")
        c.close_handshake(1000)


def test_accept_headers_are_sent(srv):
    """The accept's headers reach the client in the 101, values unchanged (uvicorn's sansio
    backend lower-cased them until #2825)."""
    with connect(srv, "/accept-headers") as c:
        assert ("x-custom", "Value-1") in c.headers
        assert ("set-cookie", "a=b") in c.headers
        c.close_handshake(1000)


def test_subprotocol_not_offered_is_refused(srv):
    """Decision: accept with a subprotocol the client did not offer is refused: the app's send
    raises; the app re-raises, so the handshake is answered 500, with an error log line that
    names the subprotocol. uvicorn 0.17.6 sends it anyway (no check)."""
    key = new_key("bad-subprotocol")
    with pytest.raises(HandshakeRefused) as refused:
        connect(srv, f"/bad-subprotocol?key={key}", subprotocols=["chat"])
    assert refused.value.status == 500
    assert recorded(srv, key) != "accepted"
    deadline = time.monotonic() + 3
    while "subprotocol" not in srv.log().lower() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "subprotocol" in srv.log().lower()


@pytest.mark.parametrize("kind", ["protocol", "crlf"])
def test_accept_headers_the_server_must_refuse(srv, kind):
    """Accept headers are checked like response headers, and sec-websocket-protocol is not
    one of them (the subprotocol field is): the app's accept raises, the app re-raises, the
    handshake is answered 500 and no such header reaches the client. uvicorn 0.17.6 completes
    both handshakes; hypercorn 0.13 raises, then hangs (protocol) or sends a close frame
    where the HTTP response should be (crlf)."""
    key = new_key(f"bad-header-{kind}")
    with pytest.raises(HandshakeRefused) as refused:
        connect(srv, f"/accept-bad-header?kind={kind}&key={key}", subprotocols=["chat"])
    assert refused.value.status == 500
    assert "x-injected" not in dict(refused.value.headers)
    assert recorded(srv, key) != "accepted"


def test_scope(srv):
    """The websocket scope: type, spec_version 2.5, path, query string, the offered
    subprotocols, the request headers. uvicorn 0.17.6 says 2.3 (hypercorn 2.3)."""
    with connect(srv, "/scope?x=1&y=%20", subprotocols=["a", "b"],
                 headers=[("X-Extra", "v")]) as c:
        scope = json.loads(c.recv_text())
        c.close_handshake(1000)
    assert scope["type"] == "websocket"
    assert scope["asgi"]["spec_version"] == "2.5"
    assert scope["path"] == "/scope"
    assert scope["query_string"] == "x=1&y=%20"
    assert scope["subprotocols"] == ["a", "b"]
    assert ["x-extra", "v"] in scope["headers"]
    assert any(n == "sec-websocket-key" for n, _ in scope["headers"])


def test_many_messages_both_ways_in_order(srv):
    """500 small messages sent before reading any echo come back complete and in order (the
    server's inbound queue and the app's sends apply backpressure, never drop)."""
    with connect(srv, "/echo", timeout=10) as c:
        c.send_raw(b"".join(build_frame(OP_TEXT, f"n{i}".encode()) for i in range(500)))
        for i in range(500):
            assert c.recv_message() == (OP_TEXT, f"n{i}".encode())
        c.close_handshake(1000)
