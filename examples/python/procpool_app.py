"""procpool_app.py - CPU work in other processes from an ASGI app: multiprocessing under an
embedded interpreter.

Routes (raw ASGI, no framework):
    GET /pool?n=N     sum of squares below N computed by a ProcessPoolExecutor (fork, Linux's
                      default start method) through loop.run_in_executor
    GET /spawn?n=N    the same with a pool whose processes are SPAWNED: they run
                      sys.executable, so this works only if sys.executable is a real Python
    GET /anyio?n=N    the same through anyio.to_process.run_sync (also runs
                      `sys.executable -u -m anyio.to_process` and imports this module there)
    GET /            "ok"
Each answer is JSON: {"result": ..., "pid": <pid of the process that computed it>,
"server_pid": <pid of the worker>, "executable": sys.executable}.

The pools are created on first use, inside the worker, and shut down at lifespan shutdown.

Run (from the repository root):
    asgid --app-dir examples/python --app procpool_app:app --bind 127.0.0.1:8000
    curl -s 'localhost:8000/spawn?n=1000'
"""
import asyncio
import concurrent.futures
import json
import multiprocessing
import os
import sys
from urllib.parse import parse_qs

import anyio.to_process


def sum_of_squares(n):
    """The CPU work; runs in a pool process. Module-level so it pickles by reference."""
    return sum(i * i for i in range(n)), os.getpid()


_pools = {}


def pool(kind):
    if kind not in _pools:
        context = multiprocessing.get_context(kind)
        _pools[kind] = concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=context)
    return _pools[kind]


async def send_json(send, status, obj):
    body = json.dumps(obj).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def lifespan(receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            for p in _pools.values():
                p.shutdown(wait=True, cancel_futures=True)
            _pools.clear()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    query = parse_qs(scope["query_string"].decode())
    n = int(query.get("n", ["1000"])[0])
    path = scope["path"]
    loop = asyncio.get_running_loop()
    if path == "/pool":
        result, pid = await loop.run_in_executor(pool("fork"), sum_of_squares, n)
    elif path == "/spawn":
        result, pid = await loop.run_in_executor(pool("spawn"), sum_of_squares, n)
    elif path == "/anyio":
        result, pid = await anyio.to_process.run_sync(sum_of_squares, n)
    elif path == "/":
        await send_json(send, 200, "ok")
        return
    else:
        await send_json(send, 404, {"error": "not found"})
        return
    await send_json(send, 200, {"result": result, "pid": pid, "server_pid": os.getpid(),
                                "executable": sys.executable})
