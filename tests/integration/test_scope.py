"""The HTTP scope the app receives: decoded and raw path, raw query string, root_path,
headers (lowercased, in order, duplicates kept), addresses, versions."""

import json

from rawhttp import request_bytes


def get_scope(srv, raw_request):
    with srv.raw() as conn:
        conn.send(raw_request)
        resp = conn.read_response()
        port = conn.local_port()
    assert resp.status == 200, resp
    return json.loads(resp.body), port


def as_bytes(text):
    # The probe writes every non-printable byte as \u00XX: map back to the exact bytes.
    return text.encode("latin-1")


def test_path_is_decoded_and_raw_path_kept(server):
    srv = server()
    scope, _ = get_scope(srv, request_bytes("GET", "/scope/a%2Fb/c%20d/%C3%A9?q=%2F&x=1+2"))
    assert as_bytes(scope["path"]) == b"/scope/a/b/c d/\xc3\xa9"
    assert scope["raw_path"] == "/scope/a%2Fb/c%20d/%C3%A9"
    # The query string is passed as sent: neither decoded nor with '+' turned into a space.
    assert scope["query_string"] == "q=%2F&x=1+2"


def test_empty_query_string(server):
    srv = server()
    scope, _ = get_scope(srv, request_bytes("GET", "/scope"))
    assert scope["query_string"] == ""
    assert scope["path"] == scope["raw_path"] == "/scope"


def test_root_path_from_settings(server):
    srv = server(root_path="/mount")
    scope, _ = get_scope(srv, request_bytes("GET", "/scope"))
    assert scope["root_path"] == "/mount"
    assert scope["path"] == "/mount/scope"


def test_root_path_empty_by_default(server):
    srv = server()
    scope, _ = get_scope(srv, request_bytes("GET", "/scope"))
    assert scope["root_path"] == ""


def test_headers_lowercased_ordered_with_duplicates(server):
    srv = server()
    scope, _ = get_scope(srv, request_bytes("GET", "/scope", headers=[
        ("X-B", "1"), ("X-A", "two words"), ("x-b", "3"), ("X-Empty", ""),
        ("X-High", "caf\xe9")]))
    headers = [tuple(h) for h in scope["headers"]]
    assert headers[0] == ("host", "t")
    assert headers[1:] == [("x-b", "1"), ("x-a", "two words"), ("x-b", "3"),
                           ("x-empty", ""), ("x-high", "caf\xe9")]


def test_header_value_whitespace_is_trimmed(server):
    srv = server()
    scope, _ = get_scope(srv, b"GET /scope HTTP/1.1\r\nHost: t\r\nX-Pad: \t padded \t\r\n\r\n")
    assert ["x-pad", "padded"] in scope["headers"]


def test_addresses_are_the_real_ones(server):
    srv = server()
    scope, client_port = get_scope(srv, request_bytes("GET", "/scope"))
    assert scope["client"] == ["127.0.0.1", client_port]
    assert scope["server"] == ["127.0.0.1", srv.port]


def test_versions_method_and_scheme(server):
    srv = server()
    scope, _ = get_scope(srv, request_bytes("PUT", "/scope", headers=[("Content-Length", 2)],
                                            body=b"hi"))
    assert scope["type"] == "http"
    assert scope["asgi_version"] == "3.0"
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "PUT"
    assert scope["scheme"] == "http"
    assert scope["body_length"] == 2


def test_http10_scope(server):
    srv = server()
    with srv.raw() as conn:
        conn.send(b"GET /scope HTTP/1.0\r\n\r\n")
        resp = conn.read_response()
    assert json.loads(resp.body)["http_version"] == "1.0"


def test_absolute_form_target(server):
    # RFC 9112 §3.2.2: a server must accept absolute-form; the path is the URI's path.
    srv = server()
    scope, _ = get_scope(srv, b"GET http://t/scope/abs?q=1 HTTP/1.1\r\nHost: t\r\n\r\n")
    assert scope["path"] == "/scope/abs"
    assert scope["query_string"] == "q=1"
