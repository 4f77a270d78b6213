"""DESIGN §6: request-parsing rules that peers got wrong (request smuggling and friends).

Every malformed request must get the exact status (400 unless stated), the connection must be
closed afterwards (a server that kept reading could take the rest of the bytes as a second,
smuggled request), and the worker must still serve a fresh connection.

The probe's /echo endpoint is the target: it reads the whole body, so body errors surface
while the app is still waiting and the server can still answer with an error status."""

import pytest

from rawhttp import request_bytes

OK_GET = b"GET /echo HTTP/1.1\r\nHost: t\r\n"
BODY_POST = b"POST /echo HTTP/1.1\r\nHost: t\r\n"

# (id, raw request, expected status)
MALFORMED = [
    # Header block syntax
    ("obs-fold-space", OK_GET + b"X-A: a\r\n b\r\n\r\n", 400),
    ("obs-fold-tab", OK_GET + b"X-A: a\r\n\tb\r\n\r\n", 400),
    ("bare-lf-everywhere", b"GET /echo HTTP/1.1\nHost: t\n\n", 400),
    ("bare-lf-in-headers", OK_GET + b"X-A: a\nX-B: b\r\n\r\n", 400),
    ("bare-lf-request-line", b"GET /echo HTTP/1.1\nHost: t\r\n\r\n", 400),
    ("bare-cr-in-headers", OK_GET + b"X-A: a\rX-B: b\r\n\r\n", 400),
    ("bare-cr-request-line", b"GET /echo HTTP/1.1\rHost: t\r\n\r\n", 400),
    ("space-before-colon", OK_GET + b"X-A : a\r\n\r\n", 400),
    ("tab-before-colon", OK_GET + b"X-A\t: a\r\n\r\n", 400),
    ("space-before-colon-content-length", BODY_POST + b"Content-Length : 5\r\n\r\nhello", 400),
    ("empty-header-name", OK_GET + b": a\r\n\r\n", 400),
    ("invalid-name-paren", OK_GET + b"X(A): a\r\n\r\n", 400),
    ("invalid-name-space", OK_GET + b"X A: a\r\n\r\n", 400),
    ("invalid-name-high-byte", OK_GET + b"X\xe9A: a\r\n\r\n", 400),
    ("control-char-0x01-in-value", OK_GET + b"X-A: a\x01b\r\n\r\n", 400),
    ("control-char-0x7f-in-value", OK_GET + b"X-A: a\x7fb\r\n\r\n", 400),
    ("nul-in-value", OK_GET + b"X-A: a\x00b\r\n\r\n", 400),
    # Content-Length
    ("content-length-plus", BODY_POST + b"Content-Length: +5\r\n\r\nhello", 400),
    ("content-length-hex", BODY_POST + b"Content-Length: 0x5\r\n\r\nhello", 400),
    ("content-length-inner-space", BODY_POST + b"Content-Length: 5 5\r\n\r\nhello", 400),
    ("content-length-negative", BODY_POST + b"Content-Length: -1\r\n\r\nhello", 400),
    ("content-length-suffix", BODY_POST + b"Content-Length: 5a\r\n\r\nhello", 400),
    ("content-length-empty", BODY_POST + b"Content-Length: \r\n\r\nhello", 400),
    ("content-length-overflow",
     BODY_POST + b"Content-Length: 99999999999999999999999\r\n\r\nhello", 400),
    ("content-length-list", BODY_POST + b"Content-Length: 5, 5\r\n\r\nhello", 400),
    ("content-length-twice-same",
     BODY_POST + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400),
    ("content-length-twice-different",
     BODY_POST + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400),
    ("content-length-and-chunked",
     BODY_POST + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"5\r\nhello\r\n0\r\n\r\n", 400),
    ("chunked-and-content-length",
     BODY_POST + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
     b"5\r\nhello\r\n0\r\n\r\n", 400),
    # Transfer-Encoding
    ("transfer-encoding-in-http10",
     b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400),
    ("chunked-twice-one-line",
     BODY_POST + b"Transfer-Encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400),
    ("chunked-twice-two-lines",
     BODY_POST + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"5\r\nhello\r\n0\r\n\r\n", 400),
    ("chunked-not-last",
     BODY_POST + b"Transfer-Encoding: chunked, gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400),
    ("unknown-coding-alone", BODY_POST + b"Transfer-Encoding: gzip\r\n\r\nhello", 501),
    ("unknown-coding-then-chunked",
     BODY_POST + b"Transfer-Encoding: x-custom, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 501),
    # Chunk framing
    ("chunk-size-0x-prefix",
     BODY_POST + b"Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk-size-leading-space",
     BODY_POST + b"Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk-size-trailing-space",
     BODY_POST + b"Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n", 400),
    ("chunk-size-trailing-tab",
     BODY_POST + b"Transfer-Encoding: chunked\r\n\r\n5\t\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk-size-plus",
     BODY_POST + b"Transfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk-size-not-hex",
     BODY_POST + b"Transfer-Encoding: chunked\r\n\r\n5g\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk-size-overflow",
     BODY_POST + b"Transfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk-size-empty",
     BODY_POST + b"Transfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk-size-bare-lf",
     BODY_POST + b"Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", 400),
    ("chunk-data-not-followed-by-crlf",
     BODY_POST + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", 400),
    ("chunk-data-followed-by-bare-lf",
     BODY_POST + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n", 400),
    # Host
    ("http11-without-host", b"GET /echo HTTP/1.1\r\n\r\n", 400),
    ("two-host-headers", OK_GET + b"Host: u\r\n\r\n", 400),
    ("host-with-space", b"GET /echo HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
    ("host-with-slash", b"GET /echo HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
    ("host-with-userinfo", b"GET /echo HTTP/1.1\r\nHost: u@a\r\n\r\n", 400),
    ("host-bad-port", b"GET /echo HTTP/1.1\r\nHost: a:80x\r\n\r\n", 400),
    ("host-open-bracket", b"GET /echo HTTP/1.1\r\nHost: [::1\r\n\r\n", 400),
    # Request line (RFC 9112 §3: single spaces, no autocorrection)
    ("two-spaces-before-target", b"GET  /echo HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    ("two-spaces-before-version", b"GET /echo  HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    ("asterisk-form-with-get", b"GET * HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    ("http09-request-line-then-blank", b"GET /echo\r\n\r\n", 400),
    # Methods the server refuses itself
    ("connect", b"CONNECT t:443 HTTP/1.1\r\nHost: t:443\r\n\r\n", 501),
    ("http2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
]

# The log line of each refusal above names the rule broken, never llhttp's own wording.
RULE_LOG_LINES = [
    (b"GET  /echo HTTP/1.1\r\nHost: t\r\n\r\n", "several spaces in the request line"),
    (b"GET /echo HTTP/1.1\r\nHost: a b\r\n\r\n", "Host is not a valid host[:port]"),
    (b"GET * HTTP/1.1\r\nHost: t\r\n\r\n", "asterisk-form target"),
    (b"CONNECT t:443 HTTP/1.1\r\nHost: t:443\r\n\r\n", "CONNECT"),
    (b"GET /echo\r\n", "HTTP/0.9 request line"),
    (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "HTTP/2 connection preface"),
    (b"GET /echo HTTP/1.1\r\nHost: t\nX-A: a\r\n\r\n", "lines must end with CRLF"),
]


@pytest.fixture
def probe(server):
    return server()


@pytest.mark.parametrize("raw,status", [m[1:] for m in MALFORMED],
                         ids=[m[0] for m in MALFORMED])
def test_malformed_request_is_rejected_and_closed(probe, raw, status):
    with probe.raw() as conn:
        conn.send(raw)
        resp = conn.read_response()
        assert resp.status == status, resp
        assert conn.is_closed(), "connection left open after a rejected request"
    probe.assert_serves()


@pytest.mark.parametrize("raw,rule", RULE_LOG_LINES, ids=[r[1] for r in RULE_LOG_LINES])
def test_refusal_log_line_names_the_rule(probe, raw, rule):
    with probe.raw() as conn:
        conn.send(raw)
        assert conn.read_response().status >= 400
    probe.assert_serves()
    lines = [line for line in probe.log().splitlines() if " from 127.0.0.1: " in line]
    assert any(rule in line for line in lines), lines
    assert not any("Pause on" in line or "Expected" in line for line in lines), lines


def test_http09_request_line_is_answered_without_waiting(probe):
    # "GET /" and CRLF, then silence: a client of HTTP/0.9 waits for an answer. It must get
    # one (and a closed connection) at once, not the header deadline's 408 seconds later.
    with probe.raw() as conn:
        conn.send(b"GET /echo\r\n")
        conn.sock.settimeout(1.5)
        resp = conn.read_response()
        assert resp.status == 400
        assert conn.is_closed(timeout=2)


def test_options_asterisk_reaches_the_app(probe):
    resp = probe.request(b"OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n")
    assert resp.status == 404  # the probe's answer to a path it does not know: the app ran


def test_connect_never_reaches_the_app(server):
    srv = server(access_log="-")
    with srv.raw() as conn:
        conn.send(b"CONNECT t:443 HTTP/1.1\r\nHost: t:443\r\n\r\n")
        resp = conn.read_response()
    assert resp.status == 501
    assert resp.body == b"501 Not Implemented\n"  # the server's own answer


def test_an_upgrade_request_is_served_as_http_and_the_connection_goes_on(probe):
    # No protocol is switched to (RFC 9110 §7.8 lets a server ignore Upgrade): the request
    # is answered, and the next one on the connection too (it used to get a 400).
    with probe.raw() as conn:
        conn.send(b"GET /echo HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\n"
                  b"Upgrade: websocket\r\n\r\n" + request_bytes("GET", "/echo"))
        assert conn.read_response().status == 200
        assert conn.read_response().status == 200


def test_rejection_is_not_followed_by_a_smuggled_request(probe):
    # A request the server rejects, with a complete request right behind it: the second must
    # never be answered, whatever the server thought the body of the first was.
    smuggled = request_bytes("GET", "/scope?smuggled")
    with probe.raw() as conn:
        conn.send(BODY_POST + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"0\r\n\r\n" + smuggled)
        data = conn.read_until_close()
    assert data.startswith(b"HTTP/1.1 400 "), data[:200]
    assert data.count(b"HTTP/1.") == 1, data
    assert b"smuggled" not in data


def test_bytes_after_connection_close_are_never_answered(probe):
    with probe.raw() as conn:
        conn.send(request_bytes("GET", "/scope?first", headers=[("Connection", "close")]) +
                  request_bytes("GET", "/scope?second"))
        data = conn.read_until_close()
    assert data.count(b"HTTP/1.1 ") == 1, data
    assert b"first" in data and b"second" not in data


# ---------------------------------------------------------------------------- limits


def test_request_line_over_limit_is_414(server):
    srv = server(limit_request_line=256)
    with srv.raw() as conn:
        conn.send(request_bytes("GET", "/echo?" + "a" * 400))
        resp = conn.read_response()
        assert resp.status == 414, resp
        assert conn.is_closed()
    srv.assert_serves()


def test_request_line_just_under_limit_is_served(server):
    # The limit counts method, target and version: a line well inside it must still pass,
    # or the 414 test above would pass for a server that rejects everything.
    srv = server(limit_request_line=256)
    resp = srv.request(request_bytes("GET", "/echo?" + "a" * 150))
    assert resp.status == 200


def test_too_many_header_fields_is_431(server):
    srv = server(limit_request_fields=10)
    headers = [(f"X-H{i}", "v") for i in range(12)]
    with srv.raw() as conn:
        conn.send(request_bytes("GET", "/echo", headers=headers))
        resp = conn.read_response()
        assert resp.status == 431, resp
        assert conn.is_closed()
    srv.assert_serves()


def test_header_count_at_limit_is_served(server):
    srv = server(limit_request_fields=10)
    headers = [(f"X-H{i}", "v") for i in range(9)]  # + Host = exactly 10
    resp = srv.request(request_bytes("GET", "/echo", headers=headers))
    assert resp.status == 200


def test_header_field_over_size_limit_is_431(server):
    srv = server(limit_request_field_size=128)
    with srv.raw() as conn:
        conn.send(request_bytes("GET", "/echo", headers=[("X-Big", "b" * 200)]))
        resp = conn.read_response()
        assert resp.status == 431, resp
        assert conn.is_closed()
    srv.assert_serves()


def test_body_over_max_body_size_by_content_length_is_413_before_the_body(server):
    srv = server(max_body_size="1k")
    with srv.raw(timeout=3) as conn:
        # Only the head: the 413 must come without the server waiting for (or reading) the body.
        conn.send(BODY_POST + b"Content-Length: 2000\r\n\r\n")
        resp = conn.read_response()
        assert resp.status == 413, resp
        assert conn.is_closed()
    srv.assert_serves()


def test_body_at_max_body_size_is_served(server):
    srv = server(max_body_size="1k")
    resp = srv.request(request_bytes("POST", "/echo", headers=[("Content-Length", "1024")],
                                     body=b"z" * 1024))
    assert resp.status == 200
    assert resp.body == b"z" * 1024


def test_chunked_body_over_max_body_size_is_413(server):
    srv = server(max_body_size="1k")
    chunks = b"".join(b"100\r\n" + b"c" * 256 + b"\r\n" for _ in range(5))  # 1280 bytes
    with srv.raw() as conn:
        conn.send(BODY_POST + b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")
        resp = conn.read_response()
        assert resp.status == 413, resp
        assert conn.is_closed()
    srv.assert_serves()


def test_chunk_extensions_over_limit_are_400(server):
    srv = server(limit_chunk_extension=64)
    with srv.raw() as conn:
        conn.send(BODY_POST + b"Transfer-Encoding: chunked\r\n\r\n"
                  b"5;ext=" + b"e" * 100 + b"\r\nhello\r\n0\r\n\r\n")
        resp = conn.read_response()
        assert resp.status == 400, resp
        assert conn.is_closed()
    srv.assert_serves()


def test_chunk_extensions_add_up_over_the_whole_body(server):
    # The limit is per body, not per chunk: many small extensions must not add up unbounded.
    srv = server(limit_chunk_extension=64)
    chunks = b"".join(b"1;e=" + b"x" * 10 + b"\r\na\r\n" for _ in range(10))  # 14 bytes each
    with srv.raw() as conn:
        conn.send(BODY_POST + b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")
        resp = conn.read_response()
        assert resp.status == 400, resp
        assert conn.is_closed()


def test_small_chunk_extensions_are_accepted(server):
    srv = server(limit_chunk_extension=64)
    resp = srv.request(BODY_POST + b"Transfer-Encoding: chunked\r\n\r\n"
                       b"5;name=value\r\nhello\r\n0\r\n\r\n")
    assert resp.status == 200
    assert resp.body == b"hello"


# ---------------------------------------------------------------------------- accepted forms
# The strict rules must not reject what RFC 9112 allows: these bodies must be echoed.

ACCEPTED = [
    ("coding-name-is-case-insensitive", b"Transfer-Encoding: Chunked\r\n"),
    ("coding-with-trailing-space", b"Transfer-Encoding: chunked \r\n"),
    ("header-name-case", b"TRANSFER-ENCODING: chunked\r\n"),
]


@pytest.mark.parametrize("header", [a[1] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_valid_chunked_variants_are_accepted(probe, header):
    resp = probe.request(BODY_POST + header + b"\r\n5\r\nhello\r\n0\r\n\r\n")
    assert resp.status == 200, resp
    assert resp.body == b"hello"


def test_uppercase_hex_chunk_size_is_accepted(probe):
    body = b"z" * 0xAB
    resp = probe.request(BODY_POST + b"Transfer-Encoding: chunked\r\n\r\nAB\r\n" + body +
                         b"\r\n0\r\n\r\n")
    assert resp.status == 200
    assert resp.body == body
