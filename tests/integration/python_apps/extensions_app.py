"""extensions_app.py - C extension modules loaded and used inside a worker.

asgid may link CPython statically (docs/architecture.md, "Linking the interpreter"): then every
extension module resolves the Python API against the asgid binary itself, and one that cannot
(a missing export, a second libpython mapped beside the static one) fails on import or crashes
on first use. This app imports extension modules of every kind at import time (in the master
with preload_app) and exercises each one on every request:

    stdlib, built into libpython:  zlib, pyexpat (xml.etree)
    stdlib, lib-dynload modules:   _asyncio, _json, _ctypes (libffi), _decimal, _sqlite3,
                                   _hashlib (OpenSSL)
    Debian packages:               httptools (Cython + llhttp), uvloop (Cython + libuv),
                                   yaml's _yaml (libyaml), msgpack's _cmsgpack (Cython)

GET / answers a JSON object: each module's result, the loop's class, and the mapped files
whose name contains "libpython" (from /proc/self/maps).
"""
import asyncio
import ctypes
import ctypes.util
import json
import xml.etree.ElementTree as ElementTree
import zlib

# The C modules themselves, not their pure-Python fallbacks.
import _asyncio
import _decimal
import _hashlib
import _json
import _sqlite3
from httptools.parser.parser import HttpRequestParser
import msgpack._cmsgpack
import uvloop
import yaml
import yaml._yaml  # noqa: F401 (CSafeLoader below is built on it)


def _httptools_url():
    seen = {}

    class Callbacks:
        def on_url(self, url):
            seen["url"] = url.decode()

    parser = HttpRequestParser(Callbacks())
    parser.feed_data(b"GET /parsed?x=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    return seen["url"]


def _libpython_maps():
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "libpython" in line}
    return sorted(paths)


async def _future_result():
    future = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(future.set_result, "resolved")
    return await future


def results():
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    database = _sqlite3.connect(":memory:")
    try:
        (sqlite_sum,) = database.execute("select 2 + 3").fetchone()
    finally:
        database.close()
    return {
        "zlib": zlib.decompress(zlib.compress(b"zlib" * 10)).decode()[:4],
        "expat": ElementTree.fromstring("<a><b>expat</b></a>").find("b").text,
        "json": _json.scanstring('"json"', 1)[0],
        "ctypes_strlen": libc.strlen(b"ctypes"),
        "decimal": str(_decimal.Decimal("1.10") + _decimal.Decimal("2.20")),
        "sqlite": sqlite_sum,
        "sha256": _hashlib.openssl_sha256(b"asgid").hexdigest()[:8],
        "httptools_url": _httptools_url(),
        "yaml": yaml.load("a: [1, 2]", Loader=yaml.CSafeLoader),  # on yaml._yaml's CParser
        "msgpack": msgpack._cmsgpack.unpackb(msgpack._cmsgpack.Packer().pack({"m": [1, 2]})),
    }


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = results()
    body["future"] = await _future_result()
    body["c_future"] = asyncio.Future is _asyncio.Future
    body["task_class"] = type(asyncio.current_task()).__module__ + "." + type(asyncio.current_task()).__name__
    body["loop_is_uvloop"] = isinstance(asyncio.get_running_loop(), uvloop.Loop)
    body["libpython_maps"] = _libpython_maps()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})
