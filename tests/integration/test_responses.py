"""Response framing by the server: HEAD, 204/304 without a body, chunked when the app gives no
content-length, and no chunking toward HTTP/1.0 clients.

Responses that must have no body are followed on the same connection by a second request: if
the server leaked body bytes, they would land where the next status line must start."""

import pytest

from rawhttp import request_bytes


def test_head_has_no_body_but_the_get_content_length(server):
    srv = server(app="hello")
    with srv.raw() as conn:
        conn.send(request_bytes("GET", "/"))
        get = conn.read_response()
        conn.send(request_bytes("HEAD", "/") + request_bytes("GET", "/echo"))
        head = conn.read_response(head=True)
        after = conn.read_response()
    assert get.status == head.status == 200
    assert get.header("content-length") == "14"
    assert head.header("content-length") == get.header("content-length")
    # The next response starts right where the HEAD headers ended.
    assert after.status == 200
    assert after.body == b"Hello, world!\n"


def test_head_drops_an_app_body_without_content_length(server):
    srv = server()
    with srv.raw() as conn:
        conn.send(request_bytes("HEAD", "/status?code=200") +
                  request_bytes("GET", "/scope?second"))
        head = conn.read_response(head=True)
        after = conn.read_response()
    assert head.status == 200
    assert after.status == 200, after
    assert b'"query_string": "second"' in after.body


@pytest.mark.parametrize("code", [204, 304])
def test_no_body_statuses_drop_the_app_body(server, code):
    srv = server()
    with srv.raw() as conn:
        conn.send(request_bytes("GET", f"/status?code={code}") +
                  request_bytes("GET", "/scope?second"))
        resp = conn.read_response()
        after = conn.read_response()
    assert resp.status == code
    assert resp.header("transfer-encoding") is None
    if code == 204:
        assert resp.header("content-length") is None
    assert after.status == 200, after
    assert b'"query_string": "second"' in after.body


def test_response_without_length_is_chunked_for_http11(server):
    srv = server()
    with srv.raw() as conn:
        conn.send(request_bytes("GET", "/chunks?n=5"))
        resp = conn.read_response()
    assert resp.status == 200
    assert resp.header("transfer-encoding") == "chunked"
    assert resp.header("content-length") is None
    assert resp.body == b"".join(b"chunk %d\n" % i for i in range(5))


def test_response_without_length_is_not_chunked_for_http10(server):
    srv = server()
    with srv.raw() as conn:
        conn.send(b"GET /chunks?n=5 HTTP/1.0\r\n\r\n")
        data = conn.read_until_close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.") and b" 200 " in head.split(b"\r\n")[0]
    assert b"chunked" not in head.lower()
    # HTTP/1.0 has no chunked coding: the body ends with the connection.
    assert body == b"".join(b"chunk %d\n" % i for i in range(5))


def test_head_on_a_streamed_response_sends_no_chunks(server):
    srv = server()
    with srv.raw() as conn:
        conn.send(request_bytes("HEAD", "/chunks?n=3") + request_bytes("GET", "/scope?after"))
        head = conn.read_response(head=True)
        after = conn.read_response()
    assert head.status == 200
    assert after.status == 200 and b"after" in after.body
