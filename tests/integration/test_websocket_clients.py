"""Real WebSocket clients against asgid: python websockets (asyncio client), wsproto (sans-io,
over a plain socket) and Node's `ws` (npm, installed into tests/integration/node by
scripts/setup.sh). Each negotiates permessage-deflate, exchanges text and a 1 MiB binary
message, pings, and closes with 4001 "bye", which the app must see. uvicorn 0.17.6 passes
all but the disconnect reason (spec 2.3); hypercorn 0.13 reports the disconnect as 1006.
"""
import asyncio
import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import websockets
from wsproto import ConnectionType, WSConnection
from wsproto.events import (AcceptConnection, BytesMessage, CloseConnection, Message, Ping, Pong,
                            Request, TextMessage)
from wsproto.extensions import PerMessageDeflate

from python_apps.harness import wait_result
from wsharness import (asgi_app_only, pyserver, requires_python,  # noqa: F401
                       ws_server)

pytestmark = [requires_python, asgi_app_only]

NODE_DIR = Path(__file__).resolve().parent / "node"
BIG = bytes(range(256)) * 4096  # 1 MiB


@pytest.fixture(params=["asyncio", "uvloop"])
def srv(request, ws_server):
    return ws_server(worker_class=request.param)


def ws_url(srv, path):
    return f"ws://{srv.host}:{srv.port}{path}"


def test_python_websockets_client(srv):
    """websockets 10.4 or 15 (asyncio): subprotocol choice, deflate, text, 1 MiB binary, ping, close
    4001 "bye" reported to the app."""
    async def session():
        async with websockets.connect(ws_url(srv, "/subprotocol"), subprotocols=["chat", "v2"],
                                      open_timeout=5, close_timeout=5) as c:
            assert c.subprotocol == "v2"
            assert json.loads(await asyncio.wait_for(c.recv(), 5)) == ["chat", "v2"]
        async with websockets.connect(ws_url(srv, "/echo?key=websockets"), max_size=4 << 20,
                                      open_timeout=5, close_timeout=5) as c:
            # websockets 10 (Debian 12) keeps the negotiated extensions on the connection,
            # 14 and later (Debian 13) on its sans-I/O protocol.
            extensions = c.extensions if hasattr(c, "extensions") else c.protocol.extensions
            assert [e.name for e in extensions] == ["permessage-deflate"]
            await c.send("héllo")
            assert await asyncio.wait_for(c.recv(), 5) == "héllo"
            await c.send(BIG)
            assert await asyncio.wait_for(c.recv(), 5) == BIG
            await asyncio.wait_for(await c.ping(b"data"), 5)
            await c.close(4001, "bye")
            assert c.close_code in (4001, 1000)

    asyncio.run(asyncio.wait_for(session(), 20))
    assert wait_result(srv, "websockets", bool) == "4001 bye"


def wsproto_events(sock, conn, until, timeout=5.0):
    """Feeds the socket into a wsproto connection until until(event) is true; returns the
    events seen (answering pings as wsproto suggests)."""
    seen = []
    deadline = time.monotonic() + timeout
    closed = False
    while True:
        for event in conn.events():
            seen.append(event)
            if isinstance(event, Ping):
                sock.sendall(conn.send(event.response()))
            if until(event):
                return seen
        remaining = deadline - time.monotonic()
        assert remaining > 0 and not closed, f"wsproto: no such event; got {seen!r}"
        sock.settimeout(remaining)
        data = sock.recv(65536)
        closed = not data
        conn.receive_data(data or None)


def test_wsproto_client(srv):
    """wsproto 1.2 (sans-io) over a plain socket: deflate, text, 1 MiB binary, ping, close 4001
    "bye" answered and reported to the app."""
    conn = WSConnection(ConnectionType.CLIENT)
    with socket.create_connection((srv.host, srv.port), timeout=5) as sock:
        sock.sendall(conn.send(Request(host=f"{srv.host}:{srv.port}", target="/echo?key=wsproto",
                                       extensions=[PerMessageDeflate()])))
        (accepted,) = [e for e in wsproto_events(sock, conn,
                                                 lambda e: isinstance(e, AcceptConnection))]
        assert [e.name for e in accepted.extensions] == ["permessage-deflate"]

        def whole(kind):
            return lambda e: isinstance(e, kind) and e.message_finished

        sock.sendall(conn.send(TextMessage(data="héllo")))
        texts = [e for e in wsproto_events(sock, conn, whole(TextMessage)) if isinstance(e, Message)]
        assert "".join(e.data for e in texts) == "héllo"
        sock.sendall(conn.send(BytesMessage(data=BIG)))
        parts = [e for e in wsproto_events(sock, conn, whole(BytesMessage))
                 if isinstance(e, BytesMessage)]
        assert b"".join(e.data for e in parts) == BIG
        sock.sendall(conn.send(Ping(payload=b"p")))
        pongs = wsproto_events(sock, conn, lambda e: isinstance(e, Pong))
        assert pongs[-1].payload == b"p"
        sock.sendall(conn.send(CloseConnection(code=4001, reason="bye")))
        closes = wsproto_events(sock, conn, lambda e: isinstance(e, CloseConnection))
        assert closes[-1].code in (4001, 1000)
        sock.settimeout(5)
        assert sock.recv(1) == b""  # the server closes TCP after the close handshake
    assert wait_result(srv, "wsproto", bool) == "4001 bye"


def test_node_ws_client(srv):
    """Node's `ws` 8.23 (npm): deflate, text, 1 MiB binary, ping, close 4001 "bye"."""
    node = shutil.which("node")
    assert node, "node is not installed (scripts/setup.sh installs it)"
    assert (NODE_DIR / "node_modules" / "ws").is_dir(), \
        "the npm package ws is missing: run scripts/setup.sh (npm ci in tests/integration/node)"
    out = subprocess.run([node, "ws_client.js", ws_url(srv, "/echo?key=node")], cwd=NODE_DIR,
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, (out.stdout, out.stderr)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["extensions"].startswith("permessage-deflate")
    assert result["events"][:3] == ["text hello ü", "binary 1048576 same", "pong ping-data"]
    assert result["events"][3] in ("close 4001 bye", "close 4001 ", "close 1000 "), result
    assert wait_result(srv, "node", bool) == "4001 bye"
