"""root_path as the ASGI spec and uvicorn >= 0.26 have it: scope["path"] is root_path followed
by the decoded request path, raw_path the request's path bytes as received, for native and
Python apps, HTTP and WebSocket scopes."""

import json

from python_apps.harness import PROBE, get_json, pyserver, requires_python  # noqa: F401
from rawhttp import request_bytes
from wsharness import WS_APP, connect


def native_scope(srv, target):
    with srv.raw() as conn:
        conn.send(request_bytes("GET", target))
        resp = conn.read_response()
    assert resp.status == 200, resp
    return json.loads(resp.body)


def test_native_path_includes_root_path(server):
    srv = server(root_path="/api")
    scope = native_scope(srv, "/scope/a%20b?x=1")
    assert scope["root_path"] == "/api"
    assert scope["path"] == "/api/scope/a b"
    assert scope["raw_path"] == "/scope/a%20b"
    assert scope["query_string"] == "x=1"


def test_native_path_without_root_path_is_unchanged(server):
    scope = native_scope(server(), "/scope/a%20b")
    assert (scope["root_path"], scope["path"], scope["raw_path"]) == ("", "/scope/a b",
                                                                      "/scope/a%20b")


def test_prefix_is_added_even_when_the_proxy_kept_it(server):
    # uvicorn >= 0.26 too: the proxy is expected to strip the prefix it routes on.
    srv = server(root_path="/scope")
    scope = native_scope(srv, "/scope/x")
    assert scope["path"] == "/scope/scope/x"
    assert scope["raw_path"] == "/scope/x"


@requires_python
def test_python_path_includes_root_path(pyserver):
    srv = pyserver(PROBE, root_path="/api")
    scope = get_json(srv, "/scope/%C3%A9")
    assert scope["root_path"] == "/api"
    assert scope["path"] == "/api/scope/é"
    assert scope["raw_path"] == "/scope/%C3%A9"


@requires_python
def test_websocket_path_includes_root_path(pyserver):
    srv = pyserver(WS_APP, root_path="/api")
    with connect(srv, "/scope?q=1") as c:
        scope = json.loads(c.recv_text())
        c.close_handshake(1000)
    assert scope["root_path"] == "/api"
    assert scope["path"] == "/api/scope"
    assert scope["raw_path"] == "/scope"
