"""ws_app.py - the raw ASGI WebSocket test app: one route per behaviour the tests check.

It runs unchanged under asgid, uvicorn and hypercorn (the references the tests are checked
against, see wsharness.py). What the client cannot see on the socket (the disconnect code the
app got, whether a late send raised) is kept in RESULTS and fetched over HTTP with
GET /result?key=K (the tests run one worker, so that request reaches the same process).

WebSocket routes (query parameters in brackets; `key` names the RESULTS entry, default the
route's name):
  /echo[?key]          accept, echo every message with its type; at the disconnect records
                       "<code> <reason>"
  /record[?key&delay_ms]  accept, sleep delay_ms (messages and the close pile up meanwhile),
                       then receive everything; records JSON {"messages": [[type, value]],
                       "code", "reason"}: type "text" or "bytes" (bytes as hex)
  /close?code&reason   accept, then close with that code and reason (none: a bare close)
  /return              accept, then return                         (server closes 1000)
  /raise-after         accept, then raise                          (server closes 1011)
  /close-before-accept close without accepting                     (server answers 403)
  /raise-before        raise without accepting                     (server answers 500)
  /deny                websocket.http.response: 401, header x-denied: yes, body "denied"
                       in two parts
  /accept-first        accept BEFORE receiving websocket.connect, then receive it, then echo
  /accept-headers      accept with headers x-custom: Value-1 and set-cookie: a=b, then echo
  /subprotocol         accept with the LAST offered subprotocol; sends the offer as JSON
  /accept-bad-header?kind[&key]  accept with a header the server must refuse: kind
                       "protocol" (sec-websocket-protocol, which belongs to `subprotocol`) or
                       "crlf" (a CR LF in a value); records the exception's type, re-raises
  /bad-subprotocol[?key]  accept with "not-offered"; records the exception's type, re-raises
  /send-after-close[?key]  accept, close 1000, then send; records "<is OSError> <type>"
  /send-after-disconnect[?key]  accept, wait for the disconnect, then send; records the same
  /scope               accept, send the scope as JSON (type, asgi, path, root_path,
                       raw_path, scheme, client, query_string, subprotocols, headers)
  /hold                accept, wait for the disconnect, append "disconnect <code>" to the
                       file $WS_APP_EVENTS; with ?ignore=1 ignore it and sleep (the server
                       must cancel the task)
  /never-accept[?key]  receive websocket.connect, never answer; records the next message
                       ("<code> <reason>" of the disconnect the server must deliver)
  /slow-receive?delay_ms[&key]  accept, sleep delay_ms without receiving, then count the
                       messages until the disconnect; records "<count> <total bytes>"
  /produce?n&size[&key]  accept, send n binary messages of size bytes, recording the number
                       sent so far after each send; then close 1000
  /browser             echo, recording every message's type and length, and the final
                       "RESULT ..." text message the page sends, under key "browser"
HTTP routes:
  /result[?key]        what a WebSocket route recorded ("" when nothing yet)
  /page                the browser test's page (tests/integration/ws_page.html)
  /report?key (POST)   records the body under key and wakes /wait?key
  /wait?key            answers (a JavaScript comment) once /report?key came, at most 15 s
  anything else        "http <method> <path> <body length>" (for Upgrade requests that
                       must be served as plain HTTP)
Lifespan: the shutdown appends "lifespan.shutdown" to $WS_APP_EVENTS (when set).
"""
import asyncio
import json
import os
from pathlib import Path
from urllib.parse import parse_qs

RESULTS = {}
REPORTED = {}  # key: asyncio.Event set by /report
PAGE = Path(__file__).resolve().parents[1] / "ws_page.html"


def event_log(line):
    path = os.environ.get("WS_APP_EVENTS")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def params(scope):
    return {k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode()).items()}


def outcome(exc):
    return f"{isinstance(exc, OSError)} {type(exc).__name__}"


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
    elif scope["type"] == "http":
        await http(scope, receive, send)
    elif scope["type"] == "websocket":
        path = scope["path"]  # the route is past root_path, which path starts with
        route = ROUTES.get(path[len(scope.get("root_path", "")):])
        if route is None:
            await send({"type": "websocket.close", "code": 1000})
            return
        await route(scope, receive, send, params(scope))


async def lifespan(receive, send):
    while True:
        msg = await receive()
        if msg["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif msg["type"] == "lifespan.shutdown":
            event_log("lifespan.shutdown")
            await send({"type": "lifespan.shutdown.complete"})
            return


async def http(scope, receive, send):
    body = b""
    while True:
        msg = await receive()
        body += msg.get("body", b"")
        if not msg.get("more_body"):
            break
    ctype = b"text/plain"
    if scope["path"] == "/result":
        out = RESULTS.get(params(scope).get("key", ""), "").encode()
    elif scope["path"] == "/page":
        out, ctype = PAGE.read_bytes(), b"text/html; charset=utf-8"
    elif scope["path"] == "/report":
        key = params(scope).get("key", "")
        RESULTS[key] = body.decode()
        REPORTED.setdefault(key, asyncio.Event()).set()
        out = b"reported"
    elif scope["path"] == "/wait":
        key = params(scope).get("key", "")
        try:
            await asyncio.wait_for(REPORTED.setdefault(key, asyncio.Event()).wait(), 15)
        except asyncio.TimeoutError:
            pass
        out, ctype = f"/* {key} */".encode(), b"application/javascript"
    else:
        out = f"http {scope['method']} {scope['path']} {len(body)}".encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", ctype), (b"content-length", str(len(out)).encode())]})
    await send({"type": "http.response.body", "body": out})


async def accept(receive, send, **fields):
    msg = await receive()
    assert msg["type"] == "websocket.connect", msg
    await send({"type": "websocket.accept", **fields})


async def echo_loop(receive, send, on_message=None):
    """Echoes until the disconnect; returns the disconnect message."""
    while True:
        msg = await receive()
        if msg["type"] == "websocket.disconnect":
            return msg
        if on_message:
            on_message(msg)
        if msg.get("text") is not None:
            await send({"type": "websocket.send", "text": msg["text"]})
        else:
            await send({"type": "websocket.send", "bytes": msg["bytes"]})


def disconnect_text(msg):
    return f"{msg.get('code')} {msg.get('reason') or ''}".rstrip()


async def ws_echo(scope, receive, send, q):
    await accept(receive, send)
    msg = await echo_loop(receive, send)
    RESULTS[q.get("key", "echo")] = disconnect_text(msg)


async def ws_record(scope, receive, send, q):
    await accept(receive, send)
    await asyncio.sleep(int(q.get("delay_ms", "0")) / 1000)
    messages = []
    while True:
        msg = await receive()
        if msg["type"] == "websocket.disconnect":
            break
        if msg.get("text") is not None:
            messages.append(["text", msg["text"]])
        else:
            messages.append(["bytes", msg["bytes"].hex()])
    RESULTS[q.get("key", "record")] = json.dumps(
        {"messages": messages, "code": msg.get("code"), "reason": msg.get("reason")})


async def ws_close(scope, receive, send, q):
    await accept(receive, send)
    msg = {"type": "websocket.close"}
    if "code" in q:
        msg["code"] = int(q["code"])
    if "reason" in q:
        msg["reason"] = q["reason"]
    await send(msg)


async def ws_return(scope, receive, send, q):
    await accept(receive, send)


async def ws_raise_after(scope, receive, send, q):
    await accept(receive, send)
    raise ValueError("ws_app: boom after accept")


async def ws_close_before_accept(scope, receive, send, q):
    await receive()
    await send({"type": "websocket.close"})


async def ws_raise_before(scope, receive, send, q):
    await receive()
    raise ValueError("ws_app: boom before accept")


async def ws_deny(scope, receive, send, q):
    await receive()
    await send({"type": "websocket.http.response.start", "status": 401,
                "headers": [(b"x-denied", b"yes"), (b"content-length", b"6")]})
    await send({"type": "websocket.http.response.body", "body": b"den", "more_body": True})
    await send({"type": "websocket.http.response.body", "body": b"ied"})


async def ws_accept_first(scope, receive, send, q):
    await send({"type": "websocket.accept"})
    msg = await receive()
    assert msg["type"] == "websocket.connect", msg
    await echo_loop(receive, send)


async def ws_accept_headers(scope, receive, send, q):
    await accept(receive, send, headers=[(b"x-custom", b"Value-1"), (b"set-cookie", b"a=b")])
    await echo_loop(receive, send)


async def ws_subprotocol(scope, receive, send, q):
    offered = scope.get("subprotocols", [])
    await accept(receive, send, subprotocol=offered[-1] if offered else None)
    await send({"type": "websocket.send", "text": json.dumps(list(offered))})
    await echo_loop(receive, send)


BAD_ACCEPT_HEADERS = {"protocol": (b"sec-websocket-protocol", b"chat"),
                      "crlf": (b"x-evil", b"a\r\nx-injected: 1")}


async def ws_accept_bad_header(scope, receive, send, q):
    await receive()
    key = q.get("key", "accept-bad-header")
    try:
        await send({"type": "websocket.accept", "headers": [BAD_ACCEPT_HEADERS[q["kind"]]]})
    except Exception as exc:
        RESULTS[key] = outcome(exc)
        raise
    RESULTS[key] = "accepted"
    await echo_loop(receive, send)


async def ws_bad_subprotocol(scope, receive, send, q):
    await receive()
    try:
        await send({"type": "websocket.accept", "subprotocol": "not-offered"})
    except Exception as exc:
        RESULTS[q.get("key", "bad-subprotocol")] = outcome(exc)
        raise
    RESULTS[q.get("key", "bad-subprotocol")] = "accepted"
    await echo_loop(receive, send)


async def ws_send_after_close(scope, receive, send, q):
    await accept(receive, send)
    await send({"type": "websocket.close", "code": 1000})
    try:
        await send({"type": "websocket.send", "text": "late"})
        RESULTS[q.get("key", "send-after-close")] = "sent"
    except Exception as exc:
        RESULTS[q.get("key", "send-after-close")] = outcome(exc)


async def ws_send_after_disconnect(scope, receive, send, q):
    await accept(receive, send)
    while (await receive())["type"] != "websocket.disconnect":
        pass
    try:
        await send({"type": "websocket.send", "text": "late"})
        RESULTS[q.get("key", "send-after-disconnect")] = "sent"
    except Exception as exc:
        RESULTS[q.get("key", "send-after-disconnect")] = outcome(exc)


async def ws_scope(scope, receive, send, q):
    await accept(receive, send)
    out = {"type": scope["type"], "asgi": scope.get("asgi"), "path": scope["path"],
           "root_path": scope.get("root_path"), "raw_path": scope.get("raw_path", b"").decode(
               "latin-1"), "scheme": scope.get("scheme"), "client": scope.get("client"),
           "query_string": scope["query_string"].decode("latin-1"),
           "subprotocols": list(scope.get("subprotocols", [])),
           "headers": [[n.decode("latin-1"), v.decode("latin-1")] for n, v in scope["headers"]]}
    await send({"type": "websocket.send", "text": json.dumps(out)})
    await echo_loop(receive, send)


async def ws_hold(scope, receive, send, q):
    await accept(receive, send)
    if q.get("ignore"):
        await asyncio.sleep(3600)
    msg = await receive()
    event_log(f"disconnect {msg.get('code')}")


async def ws_never_accept(scope, receive, send, q):
    await receive()
    RESULTS[q.get("key", "never-accept")] = disconnect_text(await receive())


async def ws_slow_receive(scope, receive, send, q):
    await accept(receive, send)
    await asyncio.sleep(int(q.get("delay_ms", "1000")) / 1000)
    count = total = 0
    while True:
        msg = await receive()
        if msg["type"] == "websocket.disconnect":
            break
        count += 1
        total += len(msg.get("bytes") or b"") + len((msg.get("text") or "").encode())
    RESULTS[q.get("key", "slow-receive")] = f"{count} {total}"


async def ws_produce(scope, receive, send, q):
    await accept(receive, send)
    key, size = q.get("key", "produce"), int(q.get("size", "1048576"))
    chunk = b"p" * size
    for i in range(int(q.get("n", "64"))):
        await send({"type": "websocket.send", "bytes": chunk})
        RESULTS[key] = str(i + 1)
    await send({"type": "websocket.close", "code": 1000})


async def ws_browser(scope, receive, send, q):
    seen = []

    def note(msg):
        if msg.get("text") is not None:
            if msg["text"].startswith("RESULT "):
                seen.append(msg["text"])
            else:
                seen.append(f"text {len(msg['text'])}")
        else:
            seen.append(f"bytes {len(msg['bytes'])}")

    await accept(receive, send)
    msg = await echo_loop(receive, send, on_message=note)
    seen.append(f"disconnect {disconnect_text(msg)}")
    RESULTS["browser"] = json.dumps(seen)


ROUTES = {
    "/echo": ws_echo,
    "/record": ws_record,
    "/close": ws_close,
    "/return": ws_return,
    "/raise-after": ws_raise_after,
    "/close-before-accept": ws_close_before_accept,
    "/raise-before": ws_raise_before,
    "/deny": ws_deny,
    "/accept-first": ws_accept_first,
    "/accept-headers": ws_accept_headers,
    "/subprotocol": ws_subprotocol,
    "/bad-subprotocol": ws_bad_subprotocol,
    "/accept-bad-header": ws_accept_bad_header,
    "/send-after-close": ws_send_after_close,
    "/send-after-disconnect": ws_send_after_disconnect,
    "/scope": ws_scope,
    "/hold": ws_hold,
    "/never-accept": ws_never_accept,
    "/slow-receive": ws_slow_receive,
    "/produce": ws_produce,
    "/browser": ws_browser,
}
