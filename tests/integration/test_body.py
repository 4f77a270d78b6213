"""Request bodies: Content-Length and chunked through /echo, streaming through echo.so,
Expect: 100-continue, draining a body the app did not read, and flow control."""

import os
import socket
import time

from rawhttp import request_bytes

MIB = 1 << 20


def send_in_odd_pieces(conn, data):
    # Sizes that never line up with buffer sizes, chunk boundaries or CRLFs.
    sizes = [1, 7, 1000, 65537, 3, 131071]
    pos, i = 0, 0
    while pos < len(data):
        n = sizes[i % len(sizes)]
        conn.send(data[pos:pos + n])
        pos += n
        i += 1


def test_content_length_body_of_one_mib_in_odd_pieces(server):
    srv = server()
    body = os.urandom(MIB)
    with srv.raw(timeout=10) as conn:
        send_in_odd_pieces(conn, request_bytes(
            "POST", "/echo", headers=[("Content-Length", len(body))], body=body))
        resp = conn.read_response()
    assert resp.status == 200
    assert resp.header("content-length") == str(MIB)
    assert resp.body == body


def chunked(body, sizes=(1, 4093, 10, 65536, 7)):
    out, pos, i = b"", 0, 0
    while pos < len(body):
        part = body[pos:pos + sizes[i % len(sizes)]]
        out += b"%x\r\n%s\r\n" % (len(part), part)
        pos += len(part)
        i += 1
    return out + b"0\r\n\r\n"


def test_chunked_body_of_one_mib_in_odd_pieces(server):
    srv = server()
    body = os.urandom(MIB)
    with srv.raw(timeout=10) as conn:
        send_in_odd_pieces(conn, request_bytes(
            "POST", "/echo", headers=[("Transfer-Encoding", "chunked")], body=chunked(body)))
        resp = conn.read_response()
    assert resp.status == 200
    assert resp.body == body


def test_chunked_body_with_trailers(server):
    srv = server()
    resp = srv.request(request_bytes(
        "POST", "/echo", headers=[("Transfer-Encoding", "chunked")],
        body=b"5\r\nhello\r\n0\r\nX-Trailer: yes\r\n\r\n"))
    assert resp.status == 200
    assert resp.body == b"hello"


def test_echo_example_streams_chunked_upload_back_chunked(server):
    srv = server(app="echo")
    body = os.urandom(300000)
    with srv.raw(timeout=10) as conn:
        send_in_odd_pieces(conn, request_bytes(
            "POST", "/", headers=[("Transfer-Encoding", "chunked")], body=chunked(body)))
        resp = conn.read_response()
    assert resp.status == 200
    assert resp.header("transfer-encoding") == "chunked"
    assert resp.body == body


def test_echo_example_answers_while_the_upload_is_still_running(server):
    # echo.so starts the response before reading: the first echoed bytes must reach the
    # client while it has not finished sending (streaming, not store-and-forward).
    srv = server(app="echo")
    with srv.raw(timeout=5) as conn:
        conn.send(request_bytes("POST", "/", headers=[("Transfer-Encoding", "chunked")]) +
                  b"5\r\nfirst\r\n")
        resp_head = b""
        deadline = time.monotonic() + 5
        while b"first" not in resp_head and time.monotonic() < deadline:
            assert conn.fill(), "closed"
            resp_head = conn.buf
        assert b"first" in resp_head
        conn.send(b"6\r\nsecond\r\n0\r\n\r\n")
        conn.buf = b""
        conn.sock.settimeout(5)
        rest = b""
        while not rest.endswith(b"0\r\n\r\n"):
            data = conn.sock.recv(4096)
            assert data, "closed before the end of the chunked response"
            rest += data
    assert b"second" in rest


def test_expect_100_continue_when_the_app_reads(server):
    srv = server()
    with srv.raw() as conn:
        conn.send(request_bytes("POST", "/echo", headers=[
            ("Content-Length", 5), ("Expect", "100-continue")]))
        interim = conn.read_response(interim=True)
        assert interim.status == 100
        assert interim.version == "HTTP/1.1"
        conn.send(b"hello")
        final = conn.read_response()
    assert final.status == 200
    assert final.body == b"hello"


def test_expect_100_continue_not_sent_when_the_app_does_not_read(server):
    srv = server()
    with srv.raw() as conn:
        conn.send(request_bytes("POST", "/ignore-body", headers=[
            ("Content-Length", 5), ("Expect", "100-continue")]))
        resp = conn.read_response(interim=True)
    assert resp.status == 200, "100 Continue sent although the app never asked for the body"
    assert resp.body == b"ok"


def test_no_100_continue_to_an_http10_client(server):
    # RFC 9110 §10.1.1: a server must not send 100 (Continue) to an HTTP/1.0 client. The
    # client sends its body after a pause; the only response must be the final one.
    srv = server()
    with srv.raw() as conn:
        conn.send(b"POST /echo HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        time.sleep(0.3)
        conn.send(b"hello")
        data = conn.read_until_close()
    assert data.startswith(b"HTTP/1.1 200 ") or data.startswith(b"HTTP/1.0 200 "), data[:100]
    assert b" 100 " not in data.split(b"\r\n")[0]
    assert data.endswith(b"hello")


def test_unread_small_body_is_drained_and_connection_reused(server):
    srv = server(drain_limit="1k")
    with srv.raw() as conn:
        conn.send(request_bytes("POST", "/ignore-body", headers=[("Content-Length", 100)],
                                body=b"d" * 100))
        first = conn.read_response()
        # If the body were not drained, its bytes would be parsed as the next request.
        conn.send(request_bytes("GET", "/scope?after-drain"))
        second = conn.read_response()
    assert first.status == 200 and first.body == b"ok"
    assert second.status == 200
    assert b"after-drain" in second.body


def test_unread_small_chunked_body_is_drained_and_connection_reused(server):
    srv = server(drain_limit="1k")
    with srv.raw() as conn:
        conn.send(request_bytes("POST", "/ignore-body",
                                headers=[("Transfer-Encoding", "chunked")],
                                body=b"5\r\nhello\r\n0\r\n\r\n"))
        first = conn.read_response()
        conn.send(request_bytes("GET", "/scope?after-drain"))
        second = conn.read_response()
    assert first.body == b"ok"
    assert b"after-drain" in second.body


def test_unread_body_over_drain_limit_closes_after_the_response(server):
    srv = server(drain_limit="1k")
    with srv.raw() as conn:
        # The head only: the app answers without reading, and 64 KiB is too much to drain.
        conn.send(request_bytes("POST", "/ignore-body", headers=[("Content-Length", 65536)]))
        resp = conn.read_response()
        assert resp.status == 200 and resp.body == b"ok"
        try:
            conn.send(b"d" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        # Read whatever: the server must end the connection, never answer a second time.
        data = conn.read_until_close(timeout=3)
    assert b"HTTP/1.1" not in data


def test_server_does_not_buffer_a_body_the_app_does_not_read(server):
    # Flow control: while the app sleeps without asking for the body, the server must leave it
    # in the kernel. The client can then push at most the socket buffers' worth.
    srv = server(worker_class="thread", threads=2)
    body_size = 64 * MIB
    with srv.raw(timeout=5) as conn:
        conn.send(request_bytes("POST", "/sleep?ms=1500",
                                headers=[("Content-Length", body_size)]))
        conn.sock.setblocking(False)
        sent, chunk = 0, b"f" * 65536
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and sent < body_size:
            try:
                sent += conn.sock.send(chunk)
            except BlockingIOError:
                time.sleep(0.01)
            except (BrokenPipeError, ConnectionResetError):
                break
    assert sent < 24 * MIB, f"server accepted {sent} body bytes the app never asked for"
    srv.assert_serves()
