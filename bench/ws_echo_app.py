"""ws_echo_app.py - the ASGI WebSocket echo app of `bench/run.sh websocket`.

Every websocket scope is accepted, and every message is sent straight back with its type:
text as text, bytes as bytes, empty ones included. It ends when the client leaves
(websocket.disconnect). Plain HTTP requests get 426 Upgrade Required, so a server that
hands the handshake to the app as an ordinary request shows it at once. The lifespan scope
is declined (the app returns at once), as examples/python/hello_asgi.py does.

It waits for websocket.connect before accepting, the order the ASGI spec describes.

Run (from the repository root):
    asgid --app-dir bench --app ws_echo_app:app --worker-class uvloop --bind 127.0.0.1:8000
    uvicorn --app-dir bench --ws websockets ws_echo_app:app     # the same app under uvicorn
    build/bench/ws_load --port 8000 --connections 64 --size 64  # the load client
"""

ACCEPT = {"type": "websocket.accept"}
UPGRADE_REQUIRED_START = {
    "type": "http.response.start",
    "status": 426,
    "headers": [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"upgrade", b"websocket"),
        (b"connection", b"upgrade"),
    ],
}
UPGRADE_REQUIRED_BODY = {
    "type": "http.response.body",
    "body": b"WebSocket echo: connect with a WebSocket client\n",
}


async def app(scope, receive, send):
    if scope["type"] == "websocket":
        await echo(receive, send)
    elif scope["type"] == "http":
        await send(UPGRADE_REQUIRED_START)
        await send(UPGRADE_REQUIRED_BODY)
    # lifespan: declined


async def echo(receive, send):
    if (await receive())["type"] != "websocket.connect":
        return
    await send(ACCEPT)
    while True:
        event = await receive()
        if event["type"] != "websocket.receive":
            return  # websocket.disconnect
        # A server may set the other key to None: the message is whichever is not.
        text = event.get("text")
        if text is not None:
            await send({"type": "websocket.send", "text": text})
        else:
            await send({"type": "websocket.send", "bytes": event["bytes"]})
