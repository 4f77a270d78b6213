"""Timeouts (DESIGN §6): the header deadline is not reset per byte, idle body reads, slow
readers, idle keep-alive connections. Small values keep the suite fast; the bounds asserted
are generous because the machine may be busy."""

import socket
import time

from rawhttp import request_bytes


def test_header_timeout_is_a_deadline_not_reset_per_byte(server):
    srv = server(header_timeout="600ms")
    head = b"GET /echo HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"s" * 100
    with srv.raw() as conn:
        start = time.monotonic()
        answered_at = None
        # One byte every 100 ms: each gap is far below the timeout, the total (10 s) far above.
        for byte in head:
            try:
                conn.send(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            try:
                if not conn.fill(timeout=0.1):
                    break  # closed
                answered_at = answered_at or time.monotonic()
            except socket.timeout:
                continue
        elapsed = (answered_at or time.monotonic()) - start
        data = conn.read_until_close(timeout=3)  # includes what arrived already
    assert data.startswith(b"HTTP/1.1 408 "), data[:200]
    # Well before the trickle would have finished (~10 s), and not before the deadline.
    assert 0.5 <= elapsed < 3.0, elapsed
    srv.assert_serves()


def test_header_deadline_applies_to_the_next_request_on_a_kept_connection(server):
    # After a response, a slow second request gets the header deadline too (not the longer
    # keep-alive timeout, and not a deadline reset by every byte).
    srv = server(header_timeout="600ms", keepalive_timeout="10s")
    with srv.raw() as conn:
        conn.send(request_bytes("GET", "/echo"))
        assert conn.read_response().status == 200
        start = time.monotonic()
        for byte in b"GET /echo HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"s" * 100:
            try:
                conn.send(bytes([byte]))
                if conn.fill(timeout=0.1) is False or conn.buf:
                    break
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        elapsed = time.monotonic() - start
        data = conn.read_until_close(timeout=3)
    assert data == b"" or data.startswith(b"HTTP/1.1 408 "), data[:200]
    assert elapsed < 3.0, elapsed


def test_connection_that_never_sends_is_closed(server):
    # Holding connections open without a byte (slowloris) must not keep a slot forever.
    srv = server(header_timeout="500ms", keepalive_timeout="500ms")
    with srv.raw() as conn:
        start = time.monotonic()
        data = conn.read_until_close(timeout=5)
    assert data == b"" or data.startswith(b"HTTP/1.1 408 "), data[:200]
    assert time.monotonic() - start < 3.0


def test_complete_headers_within_header_timeout_are_served(server):
    # Counterpart: a client that sends slowly but finishes in time is served normally.
    srv = server(header_timeout="2s")
    with srv.raw() as conn:
        for part in (b"GET /echo HTTP/1.1\r\n", b"Host: t\r\n", b"\r\n"):
            conn.send(part)
            time.sleep(0.2)
        assert conn.read_response().status == 200


def test_body_timeout_when_the_client_stops_sending(server):
    srv = server(body_timeout="500ms")
    with srv.raw() as conn:
        conn.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        start = time.monotonic()
        data = conn.read_until_close(timeout=5)
        elapsed = time.monotonic() - start
    # Either a 408 or a plain close is acceptable; an echo (200) or nothing at all is not.
    assert data == b"" or data.startswith(b"HTTP/1.1 408 "), data[:200]
    assert 0.4 <= elapsed < 3.0, elapsed
    srv.assert_serves()


def test_slow_body_within_body_timeout_is_served(server):
    # The body timeout bounds the wait for the NEXT bytes: a body arriving in pieces, each
    # within the timeout, is fine even when the whole takes longer than the timeout.
    srv = server(body_timeout="1s")
    with srv.raw() as conn:
        conn.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\n")
        for byte in b"abcd":
            time.sleep(0.4)
            conn.send(bytes([byte]))
        resp = conn.read_response()
    assert resp.status == 200
    assert resp.body == b"abcd"


def test_keepalive_timeout_closes_idle_connection_silently(server):
    srv = server(keepalive_timeout="500ms")
    with srv.raw() as conn:
        conn.send(request_bytes("GET", "/echo"))
        assert conn.read_response().status == 200
        start = time.monotonic()
        assert conn.is_closed(timeout=5), "idle keep-alive connection not closed"
        elapsed = time.monotonic() - start
    assert 0.3 <= elapsed < 3.0, elapsed


def test_keepalive_connection_is_usable_before_the_timeout(server):
    srv = server(keepalive_timeout="2s")
    with srv.raw() as conn:
        conn.send(request_bytes("GET", "/echo"))
        assert conn.read_response().status == 200
        time.sleep(0.5)
        conn.send(request_bytes("GET", "/echo"))
        assert conn.read_response().status == 200


def test_write_timeout_closes_a_client_that_never_reads(server):
    # write_buffer_limit above the response: this app sends it all at once, and the cap on
    # queued output (tested in test_connection_deadlines.py) would end it first.
    srv = server(write_timeout="500ms", worker_class="event", write_buffer_limit="64m")
    parts, size = 512, 65536  # 32 MiB: far more than the socket buffers hold
    total = parts * size
    # A small receive buffer (set before connect) so the server's writes block quickly.
    with srv.raw(timeout=10, rcvbuf=65536) as stuck:
        stuck.send(request_bytes("GET", f"/chunks?n={parts}&size={size}"))
        time.sleep(0.3)
        # While one client is stuck, others are served.
        srv.assert_serves()
        time.sleep(2.0)
        received = 0
        try:
            while True:
                data = stuck.sock.recv(1 << 20)
                if not data:
                    break
                received += len(data)
        except ConnectionResetError:
            pass
        except socket.timeout:
            raise AssertionError(f"connection still open after {received} bytes")
    assert received < total, "the whole response arrived: the slow reader was not cut off"
    assert "within write_timeout" in srv.log()
    srv.assert_serves()
