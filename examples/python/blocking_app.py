"""blocking_app.py - an app that blocks its worker's event loop, to see the hung-worker kill.

Routes:
    GET /            "ok"
    GET /block?s=N   calls time.sleep(N) (default 60) ON THE EVENT LOOP: the worker stops
                     answering anything, its heartbeat stops, and once [workers] timeout has
                     passed the master kills it, logs the Python stack of every thread of the
                     worker (the line with time.sleep(...) below among them) and starts a new one.
    GET /pid         the worker's pid, to see that it was replaced

Never do this in a real app: blocking calls belong in a thread (asyncio.to_thread,
loop.run_in_executor) or a process.

Run (from the repository root):
    asgid --app-dir examples/python --app blocking_app:app --timeout 2s --bind 127.0.0.1:8000
    curl -s localhost:8000/block?s=30     # after ~2 s the connection drops; see the error log
"""
import os
import time
from urllib.parse import parse_qs


async def text(send, status, body):
    body = body.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def block_the_loop(seconds):
    time.sleep(seconds)  # asgid-blocking-sleep: the line the hung-worker stack shows


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/block":
        seconds = float(parse_qs(scope["query_string"].decode()).get("s", ["60"])[0])
        block_the_loop(seconds)
        await text(send, 200, f"slept {seconds} s\n")
    elif path == "/pid":
        await text(send, 200, f"{os.getpid()}\n")
    else:
        await text(send, 200, "ok\n")
