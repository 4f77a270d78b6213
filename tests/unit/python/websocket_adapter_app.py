"""The app test_python_websocket.c runs through the Python adapter: one scenario per path.

Scenarios that cannot report through the connection (what the app saw after the client
left) keep their findings in `seen`, which /report sends as JSON.
"""
import json

import _asgid

seen = {}


async def app(scope, receive, send):
    path = scope["path"]
    if path == "/scope":
        await send({"type": "websocket.accept", "subprotocol": scope["subprotocols"][-1],
                    "headers": [(b"x-app", b"1")]})
        shown = {k: scope[k] for k in ("type", "asgi", "http_version", "scheme", "path",
                                       "query_string", "root_path", "headers", "client",
                                       "server", "subprotocols", "extensions")}
        shown["raw_path"] = scope["raw_path"].decode()
        shown["query_string"] = scope["query_string"].decode()
        shown["headers"] = [[n.decode(), v.decode()] for n, v in scope["headers"]]
        shown["state"] = type(scope["state"]).__name__
        shown["method" in scope and "method" or "no_method"] = True
        await send({"type": "websocket.send", "text": json.dumps(shown, sort_keys=True)})
        await send({"type": "websocket.close", "code": 4000, "reason": "done"})
    elif path == "/echo":
        first = await receive()
        seen["first"] = first["type"]
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                seen["disconnect"] = [message["code"], message["reason"]]
                try:
                    await send({"type": "websocket.send", "text": "too late"})
                except OSError as e:
                    seen["raised"] = [type(e).__name__, isinstance(e, _asgid.ClientDisconnected)]
                try:
                    await send({"type": "websocket.close"})
                except OSError as e:
                    seen["close_raised"] = type(e).__name__
                return
            if message.get("text") is not None:
                await send({"type": "websocket.send", "text": message["text"]})
            else:
                await send({"type": "websocket.send", "bytes": message["bytes"]})
    elif path == "/report":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": json.dumps(seen, sort_keys=True)})
    elif path == "/raise-before-accept":
        raise ValueError("before accept")
    elif path == "/raise-after-accept":
        await send({"type": "websocket.accept"})
        raise ValueError("after accept")
    elif path == "/disconnected-escapes":
        await send({"type": "websocket.accept"})
        await receive()  # websocket.connect
        await receive()  # websocket.disconnect
        await send({"type": "websocket.send", "bytes": b"x"})  # raises ClientDisconnected
    elif path == "/invalid":
        raised = []
        for message in ({"type": "websocket.send", "text": "before accept"},
                        {"type": "websocket.accept", "subprotocol": "not-offered"},
                        {"type": "websocket.accept", "headers": [(b"sec-websocket-protocol", b"x")]},
                        {"type": "websocket.accept"},
                        {"type": "websocket.send", "text": "x", "bytes": b"x"},
                        {"type": "websocket.send"},
                        {"type": "websocket.close", "code": 1005},
                        {"type": "websocket.close", "reason": "r" * 124},
                        {"type": "websocket.http.response.start", "status": 403}):
            try:
                await send(message)
                raised.append("ok")
            except Exception as e:
                raised.append(type(e).__name__)
        await send({"type": "websocket.send", "text": ",".join(raised)})
        await send({"type": "websocket.close"})
    elif path == "/denial":
        await send({"type": "websocket.http.response.start", "status": 403,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "websocket.http.response.body", "body": b"no", "more_body": True})
        await send({"type": "websocket.http.response.body", "body": b"!"})
    elif path == "/returns":
        await send({"type": "websocket.accept"})
