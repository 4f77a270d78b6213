"""Starlette and FastAPI WebSocket routes (examples/python) end to end, with the websockets
client, on both Python worker classes. uvicorn 0.17.6 and hypercorn 0.13 pass them."""
import asyncio
import json

import pytest
import websockets
import websockets.exceptions

from python_apps.harness import EXAMPLES_PY
from wsharness import asgi_app_only, pyserver, requires_python, ws_server  # noqa: F401

pytestmark = [requires_python, asgi_app_only]


@pytest.fixture(params=["asyncio", "uvloop"])
def worker_class(request):
    return request.param


def run(coro):
    asyncio.run(asyncio.wait_for(coro, 20))


# A handshake the server refused: websockets 10 (Debian 12) raises InvalidStatusCode, whose
# status_code is the status; websockets 14 and later (Debian 13) raise InvalidStatus, whose
# response carries it.
REFUSED = tuple(getattr(websockets.exceptions, name)
                for name in ("InvalidStatus", "InvalidStatusCode")
                if hasattr(websockets.exceptions, name))


def refused_status(exc):
    response = getattr(exc, "response", None)
    return response.status_code if response is not None else exc.status_code


def test_starlette_websocket_route(ws_server, worker_class):
    """Starlette's WebSocketRoute: text and bytes echoed, HTTP routes still served."""
    srv = ws_server("starlette_app:app", app_dir=EXAMPLES_PY, worker_class=worker_class)

    async def session():
        async with websockets.connect(f"ws://{srv.host}:{srv.port}/ws", open_timeout=5,
                                      close_timeout=5) as c:
            await c.send("hi")
            assert await asyncio.wait_for(c.recv(), 5) == "echo: hi"
            await c.send(b"\x00\x01" * 50000)
            assert await asyncio.wait_for(c.recv(), 5) == b"\x00\x01" * 50000
            await c.close(1000)
        with pytest.raises(REFUSED) as refused:
            await websockets.connect(f"ws://{srv.host}:{srv.port}/no-such-route",
                                     open_timeout=5)
        assert refused_status(refused.value) == 403  # Starlette closes unknown routes: 403

    run(session())


def test_fastapi_websocket_route(ws_server, worker_class):
    """FastAPI's @app.websocket with a path and a query parameter: JSON both ways; a close
    before accept (bad token) is answered 403."""
    srv = ws_server("fastapi_app:app", app_dir=EXAMPLES_PY, worker_class=worker_class)

    async def session():
        url = f"ws://{srv.host}:{srv.port}/ws/lobby"
        async with websockets.connect(url + "?token=secret", open_timeout=5,
                                      close_timeout=5) as c:
            for i in range(3):
                await c.send(json.dumps({"n": i}))
                got = json.loads(await asyncio.wait_for(c.recv(), 5))
                assert got == {"room": "lobby", "got": {"n": i}}
        with pytest.raises(REFUSED) as refused:
            await websockets.connect(url + "?token=wrong", open_timeout=5)
        assert refused_status(refused.value) == 403

    run(session())
