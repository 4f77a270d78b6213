"""WebSocket flow control and deadlines: backpressure both ways (the server stops reading
while the app does not receive; the app's send waits while the client does not read),
keepalive pings with a pong timeout (1011), the deadline on the handshake plus the app's
accept, and Upgrade requests to a native app that did not opt in to WebSocket.
uvicorn 0.17.6 passes the keepalive and outbound cases; with the queue setting left out, it
and hypercorn 0.13 pass the inbound one.
"""
import select
import socket
import time

import pytest

from python_apps.harness import result, wait_result
from rawhttp import request_bytes
from wsframes import OP_BINARY, OP_CLOSE, OP_PING, OP_TEXT, build_frame, open_socket, upgrade_request
from wsharness import (asgi_app_only, asgid_only, connect, pyserver,  # noqa: F401
                       requires_python, ws_server)

pytestmark = [requires_python, asgi_app_only]

MIB = 1024 * 1024


def push_until_blocked(sock, frame, quiet=0.5, limit=256 * MIB):
    """Writes copies of frame without blocking until the socket takes nothing for `quiet`
    seconds (or `limit` bytes went out); returns (whole frames written, unsent rest of the
    frame being written)."""
    sock.setblocking(False)
    frames, pending, sent = 0, frame, 0
    try:
        while sent < limit:
            _, writable, _ = select.select([], [sock], [], quiet)
            if not writable:
                break
            try:
                n = sock.send(pending)
            except BlockingIOError:
                continue
            sent += n
            pending = pending[n:]
            if not pending:
                frames, pending = frames + 1, frame
    finally:
        sock.setblocking(True)
    return frames, pending if pending is not frame else b""


def test_server_stops_reading_while_the_app_does_not_receive(ws_server):
    """While the app sleeps without receiving, the server reads at most ws_max_queue messages
    ahead (plus what the kernel buffers): the client's writes block far below the 256 MiB it
    tries to send. When the app receives again, every message arrives, none lost. uvicorn
    0.17.6 has no ws_max_queue setting (skipped there)."""
    srv = ws_server(ws_max_queue=2, ws_max_message_size=2 * MIB)
    frame = build_frame(OP_BINARY, b"q" * MIB)
    with connect(srv, "/slow-receive?delay_ms=1500&key=inbound", timeout=15) as c:
        frames, rest = push_until_blocked(c.sock, frame)
        assert frames < 48, f"the server took {frames} MiB while the app was not receiving"
        c.send_raw(rest)
        c.close_handshake(1000)
    count = frames + (1 if rest else 0)
    assert wait_result(srv, "inbound", bool, timeout=10) == f"{count} {count * MIB}"


def test_app_send_waits_while_the_client_does_not_read(ws_server):
    """The app sends 128 MiB in 1 MiB messages to a client that reads nothing for a second:
    its sends wait, so far fewer than 128 have completed; then the client reads all 128 in
    order and the close 1000."""
    srv = ws_server()
    with connect(srv, "/produce?n=128&size=1048576&key=outbound", timeout=15) as c:
        # The count settles once the server's buffer and the kernel's are full.
        done, deadline = int(wait_result(srv, "outbound", bool)), time.monotonic() + 10
        while True:
            time.sleep(0.5)
            now = int(result(srv, "outbound"))
            if now == done or time.monotonic() > deadline:
                break
            done = now
        assert done < 64, f"{done} MiB of sends completed while the client read nothing"
        for _ in range(128):
            op, data = c.recv_message(timeout=10)
            assert (op, len(data)) == (OP_BINARY, MIB)
        c.expect_close(1000)
        c.send_close(1000)
    assert result(srv, "outbound") == "128"


def test_keepalive_pings_and_pong_timeout(ws_server):
    """With ws_ping_interval and ws_ping_timeout, the server pings an idle connection; a client
    that answers stays connected, one that does not is closed with 1011."""
    srv = ws_server(ws_ping_interval="300ms", ws_ping_timeout="500ms")
    with connect(srv, "/echo") as polite, connect(srv, "/echo") as mute:
        mute_frames = []
        deadline = time.monotonic() + 5
        while not any(f.opcode == OP_CLOSE for f in mute_frames):
            assert time.monotonic() < deadline, f"no close 1011; mute got {mute_frames}"
            polite.send_message("still here")  # recv_message answers the pings
            assert polite.recv_message(timeout=2) == (OP_TEXT, b"still here")
            while (not any(f.opcode == OP_CLOSE for f in mute_frames)
                   and (mute.buf or select.select([mute.sock], [], [], 0)[0])):
                mute_frames.append(mute.recv_frame(timeout=2))  # read, never answered
            time.sleep(0.05)
        assert mute_frames[0].opcode == OP_PING, mute_frames
        assert mute_frames[-1].payload[:2] == (1011).to_bytes(2, "big"), mute_frames
        polite.send_message("after")
        assert polite.recv_message(timeout=2) == (OP_TEXT, b"after")
        polite.close_handshake(1000)


@asgid_only
def test_handshake_deadline_covers_the_apps_accept(ws_server):
    """An app that never accepts: after ws_handshake_timeout the server closes the connection
    without a 101, and the app gets websocket.disconnect with 1006 (asgiref#364)."""
    srv = ws_server(ws_handshake_timeout="500ms")
    sock = open_socket(srv.host, srv.port)
    try:
        sock.sendall(upgrade_request("/never-accept?key=deadline"))
        sock.settimeout(5)
        start = time.monotonic()
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        assert time.monotonic() - start < 4
        assert not data.startswith(b"HTTP/1.1 101"), data[:200]
    finally:
        sock.close()
    assert wait_result(srv, "deadline", bool) == "1006"


@asgid_only
def test_upgrade_to_a_native_app_without_websocket_is_plain_http(server):
    """A native app whose asgid_app table does not say ASGID_CAP_WEBSOCKET never sees a
    websocket scope: a complete, valid upgrade request is served as plain HTTP, and the next
    request on the connection too."""
    srv = server(app="probe")
    with srv.raw() as conn:
        conn.send(upgrade_request("/echo") + request_bytes("GET", "/echo"))
        first, second = conn.read_response(), conn.read_response()
    assert (first.status, second.status) == (200, 200)


@pytest.mark.parametrize("ws_setting", ["ws_max_queue", "ws_handshake_timeout", "ws_close_timeout",
                                        "ws_ping_interval", "ws_ping_timeout",
                                        "ws_max_frame_size", "ws_max_message_size",
                                        "ws_max_fragments", "ws_per_message_deflate"])
@asgid_only
def test_websocket_settings_exist(ws_setting):
    """The [websocket] settings the tests rely on are in asgid's table (a renamed setting
    fails here by name, not as a KeyError deep in another test)."""
    from conftest import settings_sections
    assert settings_sections().get(ws_setting) == "websocket"
