"""lifespan_app.py - an ASGI app whose lifespan behaviour is chosen by environment variables.

LIFESPAN_MODE:
  ok            (default) startup sleeps LIFESPAN_DELAY_MS (default 0), puts
                {"phase": "started", "pid": <pid>} in the state, completes; shutdown writes
                "shutdown <pid>" to LIFESPAN_DIR/shutdown-<pid> (when LIFESPAN_DIR is set)
  fail          sends lifespan.startup.failed with message "startup failed on purpose"
  raise         raises RuntimeError("lifespan raised on purpose") before startup.complete
  unsupported   returns at once for the lifespan scope (like apps without lifespan)
  shutdown-fail completes startup; at shutdown sends lifespan.shutdown.failed
At import, an atexit hook is registered that writes LIFESPAN_DIR/atexit-<pid> when the
interpreter of that process finalizes. Every startup also appends a line to LIFESPAN_DIR/startups (when set), so a test can count
how many times the app was started (a respawn loop would show).

HTTP: GET /state answers the scope's state as JSON (null when there is none); anything else
answers "ok". GET /sleep?ms=N sleeps first.
"""
import asyncio
import atexit
import json
import os


def _note(name, text):
    folder = os.environ.get("LIFESPAN_DIR")
    if folder:
        with open(os.path.join(folder, name), "a") as f:
            f.write(text + "\n")


def _at_exit():
    _note(f"atexit-{os.getpid()}", "atexit ran")


atexit.register(_at_exit)


async def lifespan(scope, receive, send):
    mode = os.environ.get("LIFESPAN_MODE", "ok")
    if mode == "unsupported":
        return
    message = await receive()
    assert message["type"] == "lifespan.startup"
    _note("startups", str(os.getpid()))
    if mode == "fail":
        await send({"type": "lifespan.startup.failed", "message": "startup failed on purpose"})
        return
    if mode == "raise":
        raise RuntimeError("lifespan raised on purpose")
    await asyncio.sleep(int(os.environ.get("LIFESPAN_DELAY_MS", "0")) / 1000)
    if "state" in scope:
        scope["state"]["phase"] = "started"
        scope["state"]["pid"] = os.getpid()
    await send({"type": "lifespan.startup.complete"})
    message = await receive()
    assert message["type"] == "lifespan.shutdown"
    if mode == "shutdown-fail":
        await send({"type": "lifespan.shutdown.failed", "message": "shutdown failed on purpose"})
        return
    _note(f"shutdown-{os.getpid()}", f"shutdown {os.getpid()}")
    await send({"type": "lifespan.shutdown.complete"})


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await lifespan(scope, receive, send)
        return
    if scope["path"] == "/sleep":
        ms = int(scope["query_string"].decode().partition("=")[2] or "100")
        await asyncio.sleep(ms / 1000)
    if scope["path"] == "/state":
        body = json.dumps(scope.get("state")).encode()
    else:
        body = b"ok"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
