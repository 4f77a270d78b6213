"""The access log: one line per request, and no request can forge a line (or a field) with
bytes it chooses: newlines, quotes, control and high bytes are escaped."""

import re

from rawhttp import request_bytes


def access_lines(srv, path):
    # Stop first: a graceful stop flushes the log, so the file is complete when read.
    assert srv.stop() == 0, srv.log()
    data = path.read_bytes()
    assert data.endswith(b"\n"), data[-200:]
    return data[:-1].split(b"\n")


def test_one_line_per_request(server, tmp_path):
    log = tmp_path / "access.log"
    srv = server(access_log=str(log))
    for path in ("/echo", "/scope?x=1", "/status?code=404"):
        srv.request(request_bytes("GET", path))
    lines = access_lines(srv, log)
    assert len(lines) == 3, lines
    assert b'"GET /echo HTTP/1.1" 200' in lines[0]
    assert b'"GET /scope?x=1 HTTP/1.1" 200' in lines[1]
    assert b'"GET /status?code=404 HTTP/1.1" 404' in lines[2]
    for line in lines:
        assert line.startswith(b"127.0.0.1 "), line


def test_requests_the_server_rejects_are_logged(server, tmp_path):
    # 400, 413, 431 and 503 are answered by the server itself, before or instead of the app:
    # each still gets its line, with what could be read of the request.
    log = tmp_path / "access.log"
    srv = server(access_log=str(log), max_body_size="1k", limit_request_fields=5)
    srv.request(b"GET  /spaces HTTP/1.1\r\nHost: t\r\n\r\n")
    srv.request(b"POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n")
    srv.request(b"GET /fields HTTP/1.1\r\nHost: t\r\n" + b"X-A: 1\r\n" * 6 + b"\r\n")
    srv.request(request_bytes("GET", "/echo"))
    lines = access_lines(srv, log)
    assert len(lines) == 4, lines
    # Refused at the second space: the method was read, the target was not.
    assert b'"GET  HTTP/1.1" 400 16 ' in lines[0], lines[0]
    assert b'"POST /big HTTP/1.1" 413 ' in lines[1], lines[1]
    assert b'"GET /fields HTTP/1.1" 431 ' in lines[2], lines[2]
    assert b'"GET /echo HTTP/1.1" 200 ' in lines[3], lines[3]


def test_no_request_can_forge_a_line(server, tmp_path):
    log = tmp_path / "access.log"
    srv = server(access_log=str(log))
    hostile = [
        # Percent-encoded newlines in the target (decoded somewhere, they would split lines).
        request_bytes("GET", "/echo?a=%0A127.0.0.1%20-%20-%0D%0Ab",
                      headers=[("User-Agent", "ua")]),
        # Raw high bytes in the target (0x85 is NEL, a line break to some viewers).
        b"GET /echo?\xff\xfe\x85 HTTP/1.1\r\nHost: t\r\n\r\n",
        # obs-text in header values that the log prints (User-Agent, Referer).
        b"GET /echo HTTP/1.1\r\nHost: t\r\nUser-Agent: a\x85b\xe2\x80\xa8c\r\n"
        b"Referer: r\\\"\r\n\r\n",
    ]
    answered = 0
    for raw in hostile:
        resp = srv.request(raw)
        assert resp.status in (200, 400), resp
        answered += resp.status == 200
    lines = access_lines(srv, log)
    # Served requests are logged; rejected ones may be. Never more lines than requests.
    assert answered <= len(lines) <= len(hostile), lines
    for line in lines:
        # Nothing below 0x20, no DEL, no NEL (0x85) or other high bytes a viewer may break on.
        assert not re.search(rb"[\x00-\x1f\x7f-\xff]", line), line
        assert line.startswith(b"127.0.0.1 "), line


def test_quote_in_a_header_cannot_forge_a_field(server, tmp_path):
    log = tmp_path / "access.log"
    srv = server(access_log=str(log))
    srv.request(request_bytes("GET", "/echo", headers=[("User-Agent", 'x" 200 "forged')]))
    lines = access_lines(srv, log)
    assert len(lines) == 1
    # The quote must be escaped, so the user agent stays inside its own quoted field.
    assert b'x" 200 "forged' not in lines[0], lines[0]
    assert b"forged" in lines[0]


def test_access_log_disabled_by_default(server, tmp_path):
    srv = server()
    srv.request(request_bytes("GET", "/echo"))
    assert srv.stop() == 0
    assert '"GET /echo' not in srv.stdout() + srv.log()


def test_access_log_dash_is_standard_output(server):
    srv = server(access_log="-")
    srv.request(request_bytes("GET", "/echo?to-stdout"))
    assert srv.stop() == 0
    assert '"GET /echo?to-stdout HTTP/1.1" 200' in srv.stdout()
    assert "to-stdout" not in srv.log()
