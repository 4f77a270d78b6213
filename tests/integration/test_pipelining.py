"""Pipelining: several requests in one send() are answered in order, each with its own body,
including POST bodies between them and requests split at awkward boundaries."""

import json

from rawhttp import request_bytes


def scope_of(resp):
    assert resp.status == 200, resp
    return json.loads(resp.body)


def test_three_gets_in_one_send_answer_in_order(server):
    srv = server()
    with srv.raw() as conn:
        conn.send(b"".join(request_bytes("GET", f"/scope/{i}?i={i}") for i in range(3)))
        scopes = [scope_of(conn.read_response()) for _ in range(3)]
    assert [s["path"] for s in scopes] == ["/scope/0", "/scope/1", "/scope/2"]
    assert [s["query_string"] for s in scopes] == ["i=0", "i=1", "i=2"]


def test_pipelined_posts_keep_their_own_bodies(server):
    srv = server()
    bodies = [b"first body", b"", b"x" * 70000, b"last"]
    data = b""
    for i, body in enumerate(bodies):
        if i == 2:  # one of them chunked
            data += request_bytes("POST", "/echo", headers=[("Transfer-Encoding", "chunked")],
                                  body=b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        else:
            data += request_bytes("POST", "/echo", headers=[("Content-Length", len(body))],
                                  body=body)
    with srv.raw() as conn:
        conn.send(data)
        got = [conn.read_response() for _ in bodies]
    assert [r.status for r in got] == [200] * len(bodies)
    assert [r.body for r in got] == bodies


def test_mixed_methods_pipelined(server):
    srv = server()
    with srv.raw() as conn:
        conn.send(request_bytes("HEAD", "/status?code=200") +
                  request_bytes("POST", "/echo", headers=[("Content-Length", 3)], body=b"abc") +
                  request_bytes("GET", "/status?code=204") +
                  request_bytes("GET", "/chunks?n=2") +
                  request_bytes("DELETE", "/scope"))
        head = conn.read_response(head=True)
        echo = conn.read_response()
        no_content = conn.read_response()
        chunks = conn.read_response()
        last = scope_of(conn.read_response())
    assert head.status == 200
    assert echo.body == b"abc"
    assert no_content.status == 204
    assert chunks.body == b"chunk 0\nchunk 1\n"
    assert last["method"] == "DELETE"


def test_pipeline_split_at_awkward_boundaries(server):
    srv = server()
    data = (request_bytes("POST", "/echo", headers=[("Transfer-Encoding", "chunked")],
                          body=b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n") +
            request_bytes("POST", "/echo", headers=[("Content-Length", 5)], body=b"fghij") +
            request_bytes("GET", "/scope?tail"))
    with srv.raw() as conn:
        # Cut between CR and LF, inside a chunk size line and inside a header name.
        cuts = [data.index(b"\r\n") + 1, data.index(b"2\r\nde") + 1,
                data.index(b"Content-Length") + 4, len(data) - 3]
        prev = 0
        for cut in cuts + [len(data)]:
            conn.send(data[prev:cut])
            prev = cut
        first, second = conn.read_response(), conn.read_response()
        third = scope_of(conn.read_response())
    assert first.body == b"abcde"
    assert second.body == b"fghij"
    assert third["query_string"] == "tail"


def test_pipelined_request_after_an_unread_body(server):
    # The app answers without reading the body; the server must skip exactly that body and
    # parse the next request right after it.
    srv = server(drain_limit="1k")
    with srv.raw() as conn:
        conn.send(request_bytes("POST", "/ignore-body", headers=[("Content-Length", 20)],
                                body=b"GET /scope?fake HTTP") +
                  request_bytes("GET", "/scope?real"))
        first = conn.read_response()
        second = scope_of(conn.read_response())
    assert first.body == b"ok"
    assert second["query_string"] == "real"


def test_two_hundred_pipelined_requests_before_reading(server):
    # The client reads nothing until it has sent everything: the server must keep order and
    # not lose responses while its writes back up.
    srv = server()
    n = 200
    with srv.raw(timeout=10) as conn:
        conn.send(b"".join(request_bytes("GET", f"/scope?i={i}") for i in range(n)))
        got = [scope_of(conn.read_response())["query_string"] for _ in range(n)]
    assert got == [f"i={i}" for i in range(n)]
