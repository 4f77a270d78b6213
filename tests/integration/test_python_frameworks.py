"""Real frameworks under asgid's Python worker classes: the examples in examples/python
(Starlette 0.26, FastAPI 0.92 with pydantic 1.10, Django 3.2) and Starlette's
BaseHTTPMiddleware + StreamingResponse, which calls receive() from two tasks at once."""
import hashlib

import httpx
import pytest

from python_apps.harness import EXAMPLES_PY, SOURCE_DIR, pyserver, requires_python  # noqa: F401

pytestmark = requires_python


@pytest.fixture(params=["asyncio", "uvloop"])
def worker_class(request):
    return request.param


def client(srv):
    return httpx.Client(base_url=srv.url, timeout=10)


def test_starlette_example(pyserver, worker_class):
    srv = pyserver("starlette_app:app", app_dir=EXAMPLES_PY, worker_class=worker_class)
    with client(srv) as c:
        r = c.get("/")
        assert r.status_code == 200 and r.text == "Hello, world!\n"
        assert r.headers["content-type"] == "text/plain; charset=utf-8"
        assert c.get("/json").json() == {"hello": "world"}
        assert c.get("/items/3", params={"q": "x"}).json() == {"id": 3, "q": "x"}
        assert c.get("/items/notanint").status_code == 404
        r = c.get("/stream", params={"n": 4})
        assert r.text == "".join(f"chunk {i}\n" for i in range(4))
        assert r.headers.get("transfer-encoding") == "chunked"
        r = c.post("/echo-json", json={"a": 1, "b": [1, 2]})
        assert r.json() == {"received": {"a": 1, "b": [1, 2]}, "keys": 2}
        assert c.get("/state").json() == {"started": True, "greeting": "hello from lifespan"}


def test_starlette_lifespan_state_comes_from_the_server(pyserver):
    # The example's fallback only fills in for servers without lifespan state: under asgid
    # the state must reach the request through the server's own copy of it.
    srv = pyserver("python_apps.probe:app")
    with client(srv) as c:
        assert c.get("/state").json()["greeting"] == "hello"


def test_starlette_middleware_streaming_and_body(pyserver, worker_class):
    srv = pyserver("python_apps.starlette_mw:app", worker_class=worker_class)
    with client(srv) as c:
        for _ in range(3):  # keep-alive: the concurrent receivers of one request must not
            r = c.get("/stream", params={"n": 50})  # leak into the next
            assert r.status_code == 200
            assert r.headers["x-middleware"] == "1"
            assert r.text == "".join(f"line {i}\n" for i in range(50))
        data = bytes(range(256)) * 1000
        r = c.post("/body", content=data)
        assert r.json() == {"length": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        assert r.headers["x-middleware"] == "1"
        assert c.get("/plain").text == "plain"


def test_fastapi_example(pyserver, worker_class):
    srv = pyserver("fastapi_app:app", app_dir=EXAMPLES_PY, worker_class=worker_class)
    with client(srv) as c:
        assert c.get("/").json() == {"message": "Hello, world!"}
        assert c.get("/items/5", params={"q": "z"}).json() == {"item_id": 5, "q": "z"}
        r = c.get("/items/x")
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["path", "item_id"]
        r = c.post("/items", params={"quantity": 3}, json={"name": "pen", "price": 1.5})
        assert r.status_code == 200
        assert r.json() == {"name": "pen", "price": 1.5, "tags": [], "quantity": 3,
                            "total": 4.5}
        assert c.post("/items", json={"name": "pen"}).status_code == 422
        assert c.get("/whoami").status_code == 401
        assert c.get("/whoami", headers={"x-token": "abc"}).json() == {"token": "abc"}
        counts = [c.get("/counter").json()["count"] for _ in range(3)]
        assert counts == [counts[0], counts[0] + 1, counts[0] + 2]
        assert c.get("/openapi.json").json()["info"]["title"] == "asgid example"


def test_django_example(pyserver, worker_class):
    srv = pyserver("django_project.asgi:application", app_dir=EXAMPLES_PY / "django_project",
                   worker_class=worker_class)
    with client(srv) as c:
        r = c.get("/", headers={"host": "localhost"})
        assert r.status_code == 200 and r.text == "Hello, world!\n"
        body = b"x=1&" + b"y" * 200000
        r = c.post("/echo", content=body, headers={"host": "localhost",
                                                   "content-type": "text/plain"})
        assert r.status_code == 200, r.text
        got = r.json()
        assert got["length"] == len(body) and got["body"].encode() == body
        r = c.get("/info/7", params={"a": "b"}, headers={"host": "127.0.0.1"})
        info = r.json()
        assert info["number"] == 7 and info["path"] == "/info/7"
        assert info["query"] == {"a": "b"} and info["method"] == "GET"
        # DEBUG is off: a Host outside ALLOWED_HOSTS is a plain 400, a missing page a 404.
        assert c.get("/", headers={"host": "evil.example"}).status_code == 400
        assert c.get("/nope", headers={"host": "localhost"}).status_code == 404
        assert c.get("/echo", headers={"host": "localhost"}).status_code == 405


def test_awaitable_and_class_apps(pyserver):
    srv = pyserver("python_apps.awaitable_app:app")
    with client(srv) as c:
        assert c.get("/").text == "awaitable ok"
    srv2 = pyserver("python_apps.awaitable_app:class_app")
    with client(srv2) as c:
        assert c.get("/").text == "class ok"


@pytest.mark.parametrize("worker_class", ["asyncio", "uvloop"])
def test_hello_example_matches_the_native_hello(pyserver, worker_class):
    # The benchmark app: the same status, headers and body as examples/native/hello.c.
    srv = pyserver("hello_asgi:app", app_dir=EXAMPLES_PY, worker_class=worker_class)
    with srv.raw() as conn:
        for method in ("GET", "POST"):
            conn.send(f"{method} /any/path?x=1 HTTP/1.1\r\nHost: t\r\n"
                      "Content-Length: 3\r\n\r\nabc".encode())
            resp = conn.read_response()
            assert resp.status == 200
            assert resp.header("content-type") == "text/plain; charset=utf-8"
            assert resp.header("content-length") == "14"
            assert resp.header("transfer-encoding") is None
            assert resp.body == b"Hello, world!\n"


def test_examples_import_as_a_namespace_package(pyserver):
    # From the repository root, without app_dir: `asgid --app examples.python.hello_asgi:app`.
    srv = pyserver("examples.python.hello_asgi:app", app_dir=SOURCE_DIR)
    with httpx.Client(base_url=srv.url, timeout=10) as c:
        assert c.get("/").text == "Hello, world!\n"
