"""starlette_app.py - a small Starlette (0.26) app: text, JSON, path parameters, a streaming
response, a JSON request body, lifespan state, and a WebSocket route.

Routes:
    GET  /                  "Hello, world!\\n" as text/plain (the benchmark route)
    GET  /json              {"hello": "world"}
    GET  /items/{id:int}    {"id": id, "q": <query parameter q or null>}
    GET  /stream?n=5        n lines "chunk i\\n", streamed (chunked), one per loop iteration
    POST /echo-json         the JSON body back, with its key count: {"received": ..., "keys": n}
    GET  /state             what the lifespan put in the state: {"started": true, "greeting": ...}
    WS   /ws                WebSocket: text comes back as "echo: <text>", bytes unchanged,
                            until the client closes

The lifespan opens a "resource" at startup and yields it as lifespan state (ASGI spec 2.3):
the server copies that state into every request's scope, and Starlette exposes it as
request.state. Servers older than lifespan state (Debian's uvicorn 0.17 and hypercorn 0.13)
make Starlette refuse a lifespan that yields state; the outer `app` callable below fills the
gap for them, so the same app runs under every server the benchmark compares. Under asgid it
passes everything through untouched.

Run (from the repository root):
    asgid --app-dir examples/python --app starlette_app:app --bind 127.0.0.1:8000
    curl -s localhost:8000/items/3?q=x
    curl -s -X POST -H 'content-type: application/json' -d '{"a": 1}' localhost:8000/echo-json
    python3 -m websockets ws://localhost:8000/ws
"""
import asyncio
import contextlib

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket


@contextlib.asynccontextmanager
async def lifespan(app):
    # Startup: anything awaited here runs before the server accepts a connection.
    await asyncio.sleep(0)
    yield {"started": True, "greeting": "hello from lifespan"}
    # Shutdown: runs after the last request when the server stops gracefully.


async def hello(request):
    return PlainTextResponse("Hello, world!\n")


async def json_route(request):
    return JSONResponse({"hello": "world"})


async def item(request):
    return JSONResponse({"id": request.path_params["id"], "q": request.query_params.get("q")})


async def stream(request):
    n = int(request.query_params.get("n", "5"))

    async def lines():
        for i in range(n):
            yield f"chunk {i}\n"
            await asyncio.sleep(0)

    return StreamingResponse(lines(), media_type="text/plain")


async def echo_json(request):
    data = await request.json()
    keys = len(data) if isinstance(data, dict) else None
    return JSONResponse({"received": data, "keys": keys})


async def state(request):
    return JSONResponse({"started": getattr(request.state, "started", False),
                         "greeting": getattr(request.state, "greeting", None)})


async def ws_echo(websocket: WebSocket):
    await websocket.accept()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await websocket.send_text("echo: " + message["text"])
        else:
            await websocket.send_bytes(message["bytes"])


starlette_app = Starlette(routes=[
    Route("/", hello),
    Route("/json", json_route),
    Route("/items/{id:int}", item),
    Route("/stream", stream),
    Route("/echo-json", echo_json, methods=["POST"]),
    Route("/state", state),
    WebSocketRoute("/ws", ws_echo),
], lifespan=lifespan)

_fallback_state = {}


async def app(scope, receive, send):
    """The ASGI entry. Adds lifespan state for servers that do not provide it (see above)."""
    if "state" not in scope and scope["type"] in ("lifespan", "http", "websocket"):
        scope["state"] = _fallback_state if scope["type"] == "lifespan" else dict(_fallback_state)
    await starlette_app(scope, receive, send)
