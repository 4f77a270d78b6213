"""logging_app.py - an ASGI app that logs, prints and raises, for test_python_logging.py.

At import it prints "printed at import" and logs "logged at import" at INFO on logger "app".
It has no lifespan support of its own: the lifespan scope returns at once.

Endpoints (GET; query parameters in brackets; each answers "ok" unless it raises):
  /deep             raises RuntimeError("bottom of a 60-frame stack") from 60 nested calls,
                    ping() and pong() in turn (a recursion of one function would be shortened
                    by Python's "[Previous line repeated N more times]")
  /log[?level&text] logging.getLogger("app").log(level, text) (level name, default INFO)
  /exception        logging.getLogger("app").exception("caught it") inside an except block
                    for ValueError("the caught exception")
  /print[?text]     print(text)
  /stderr[?text]    sys.stderr.write(text + "\\n")
  /lines            print("first line\\nsecond line"): one write of two lines
  /partial[?text]   print(text, end="", flush=True): a partial line, flushed
  /unflushed[?text] sys.stdout.write(text): a partial line nobody flushes
  /thread[?text]    print(text) from 4 threads at once, 50 times each, with an index
  /fd[?text]        os.write(sys.stdout.fileno(), text + "\\n"): below Python's streams
  /thread-raise     a thread that raises RuntimeError("raised in a thread")
  /unraisable       an object whose __del__ raises RuntimeError("raised in __del__"), deleted
  /fork[?text]      sys.stdout.write(text) (a partial line), then os.fork(): the child prints
                    "child of <pid>" and exits at once (os._exit); the parent waits for it
"""
import logging
import os
import sys
import threading
from urllib.parse import parse_qs

log = logging.getLogger("app")

print("printed at import")
log.info("logged at import")


def ping(depth):
    if depth == 1:
        raise RuntimeError("bottom of a 60-frame stack")
    pong(depth - 1)


def pong(depth):
    if depth == 1:
        raise RuntimeError("bottom of a 60-frame stack")
    ping(depth - 1)


class RaisesInDel:
    def __del__(self):
        raise RuntimeError("raised in __del__")


def printer(text, index):
    for i in range(50):
        print(f"{text} {index}-{i}")


def act(path, query):
    text = query.get("text", ["text"])[0]
    if path == "/deep":
        ping(60)
    elif path == "/log":
        log.log(getattr(logging, query.get("level", ["INFO"])[0]), text)
    elif path == "/exception":
        try:
            raise ValueError("the caught exception")
        except ValueError:
            log.exception("caught it")
    elif path == "/print":
        print(text)
    elif path == "/stderr":
        sys.stderr.write(text + "\n")
    elif path == "/lines":
        print("first line\nsecond line")
    elif path == "/partial":
        print(text, end="", flush=True)
    elif path == "/unflushed":
        sys.stdout.write(text)
    elif path == "/thread":
        threads = [threading.Thread(target=printer, args=(text, i)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    elif path == "/fd":
        os.write(sys.stdout.fileno(), (text + "\n").encode())
    elif path == "/thread-raise":
        def fail():
            raise RuntimeError("raised in a thread")
        t = threading.Thread(target=fail, name="failing-thread")
        t.start()
        t.join()
    elif path == "/fork":
        sys.stdout.write(text)
        child = os.fork()
        if child == 0:
            print(f"child of {os.getppid()}")
            os._exit(0)
        os.waitpid(child, 0)
    elif path == "/unraisable":
        RaisesInDel()  # deleted at once: Python reports the exception and goes on


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    act(scope["path"], parse_qs(scope["query_string"].decode()))
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})
