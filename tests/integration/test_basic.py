"""Basic serving: the hello example over httpx and raw sockets, Date/Server headers,
keep-alive, HTTP/1.0 and Connection: close."""

import email.utils
import re
import time

import httpx

from rawhttp import request_bytes

IMF_FIXDATE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d\d:\d\d:\d\d GMT$")


def test_hello_over_httpx(server):
    srv = server(app="hello")
    with httpx.Client(timeout=5) as client:
        resp = client.get(srv.url + "/")
    assert resp.status_code == 200
    assert resp.content == b"Hello, world!\n"


def test_date_header_is_imf_fixdate_and_current(server):
    srv = server(app="hello")
    resp = srv.request(request_bytes("GET", "/"))
    date = resp.header("date")
    assert date is not None, resp.headers
    assert IMF_FIXDATE.match(date), date
    # The server caches the Date string; it may lag by about a second, never by more.
    when = email.utils.parsedate_to_datetime(date).timestamp()
    assert abs(when - time.time()) < 5, date
    assert len(resp.header_all("date")) == 1


def test_server_header_is_asgid_by_default(server):
    srv = server(app="hello")
    resp = srv.request(request_bytes("GET", "/"))
    assert resp.header("server") == "asgid"


def test_server_header_off_removes_it(server):
    srv = server(app="hello", server_header="off")
    resp = srv.request(request_bytes("GET", "/"))
    assert resp.status == 200
    assert resp.header("server") is None, resp.headers


def test_keep_alive_serves_two_requests_on_one_connection(server):
    srv = server()
    with srv.raw() as conn:
        conn.send(request_bytes("GET", "/scope?n=1"))
        first = conn.read_response()
        conn.send(request_bytes("GET", "/scope?n=2"))
        second = conn.read_response()
    assert (first.status, second.status) == (200, 200)
    assert b'"query_string": "n=1"' in first.body
    assert b'"query_string": "n=2"' in second.body
    assert first.header("connection") != "close"


def test_http10_request_gets_response_then_close(server):
    srv = server(app="hello")
    with srv.raw() as conn:
        conn.send(b"GET / HTTP/1.0\r\n\r\n")
        resp = conn.read_response()
        assert resp.status == 200
        assert resp.body == b"Hello, world!\n"
        # HTTP/1.0 without "Connection: keep-alive" is not persistent.
        assert conn.is_closed()


def test_connection_close_is_honoured(server):
    srv = server(app="hello")
    with srv.raw() as conn:
        conn.send(request_bytes("GET", "/", headers=[("Connection", "close")]))
        resp = conn.read_response()
        assert resp.status == 200
        assert (resp.header("connection") or "").lower() == "close"
        assert conn.is_closed()
