#!/usr/bin/python3
"""app_alone.py - an example app's GET / run with no server at all: its own cost per request.

    app_alone.py APP N            runs N requests (APP: hello, starlette, fastapi, django)
    app_alone.py APP N --time     prints the best of 5 runs of N requests, in us per request

The app's coroutine is awaited N times in one asyncio Task, with a fresh scope each time and
a receive/send that do nothing, so what is measured is the framework alone: the floor under
any server's cost for that app. Instructions per request are the difference between two
counts (docs/architecture.md, "Linking the interpreter"):

    valgrind --tool=callgrind --callgrind-out-file=/dev/null python3 bench/app_alone.py fastapi 500
    valgrind --tool=callgrind --callgrind-out-file=/dev/null python3 bench/app_alone.py fastapi 1500

and (Ir(1500) - Ir(500)) / 1000. Run it with the interpreter to measure (Debian's python3, or
a program linked against libpython another way).
"""
import asyncio
import importlib
import sys
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "python"
APPS = {  # name: (module, attribute, app dir), as bench/run.sh's python mode serves them
    "hello": ("hello_asgi", "app", EXAMPLES),
    "starlette": ("starlette_app", "app", EXAMPLES),
    "fastapi": ("fastapi_app", "app", EXAMPLES),
    "django": ("django_project.asgi", "application", EXAMPLES / "django_project"),
}


async def receive():
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message):
    pass


def scope():
    return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1", "method": "GET", "scheme": "http", "path": "/",
            "raw_path": b"/", "query_string": b"", "root_path": "",
            "headers": [(b"host", b"localhost")], "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000), "state": {}}


def main():
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in APPS:
        sys.exit(__doc__)
    module, attribute, app_dir = APPS[sys.argv[1]]
    count = int(sys.argv[2])
    sys.path.insert(0, str(app_dir))
    app = getattr(importlib.import_module(module), attribute)

    async def requests():
        for _ in range(count):
            await app(scope(), receive, send)

    loop = asyncio.new_event_loop()
    if sys.argv[3:] == ["--time"]:
        best = min(timed(loop, requests) for _ in range(5))
        print(f"{best / count * 1e6:.2f} us/request")
    else:
        loop.run_until_complete(requests())


def timed(loop, requests):
    start = time.perf_counter()
    loop.run_until_complete(requests())
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
