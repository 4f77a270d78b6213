"""Clients that vanish: mid-head, mid-body, mid-response, or while the app works. The worker
must forget the connection, stay idle (no busy loop) and keep serving."""

import threading
import time

import pytest

from rawhttp import request_bytes


@pytest.fixture(params=["event", "thread"])
def probe(request, server):
    return server(worker_class=request.param)


def test_client_gone_mid_head(probe):
    with probe.raw() as conn:
        conn.send(b"GET /echo HTTP/1.1\r\nHost: t\r\nX-Half: ")
    probe.assert_idle()
    probe.assert_serves()


def test_client_gone_mid_content_length_body(probe):
    with probe.raw() as conn:
        conn.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly-some")
        time.sleep(0.2)  # the app is waiting for the rest
    probe.assert_idle()
    probe.assert_serves()


def test_client_gone_mid_chunked_body(probe):
    with probe.raw() as conn:
        conn.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"5\r\nhello\r\n")
        time.sleep(0.2)
    probe.assert_idle()
    probe.assert_serves()


def test_client_gone_mid_response(probe):
    with probe.raw(rcvbuf=65536) as conn:
        conn.send(request_bytes("GET", "/chunks?n=256&size=65536"))  # 16 MiB
        conn.fill()  # the response has started
    probe.assert_idle()
    probe.assert_serves()


def test_client_gone_while_the_app_works(server):
    srv = server(worker_class="thread", threads=2)
    with srv.raw() as conn:
        conn.send(request_bytes("GET", "/sleep?ms=500"))
        time.sleep(0.1)
    time.sleep(0.6)  # the app answers into a closed connection
    srv.assert_idle()
    srv.assert_serves()


def test_many_abandoned_connections_do_not_pile_up(server):
    # Connections opened and dropped in every state; afterwards the server still answers
    # promptly (no leaked slot starves max_connections).
    srv = server(max_connections=8)
    partials = [b"", b"GET /echo HTTP/1.1\r\n",
                b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\n\r\nabc",
                request_bytes("GET", "/chunks?n=100&size=10000")]
    for i in range(40):
        with srv.raw() as conn:
            conn.send(partials[i % len(partials)])
    deadline = time.monotonic() + 5
    while True:
        try:
            srv.assert_serves()
            break
        except (AssertionError, OSError):
            assert time.monotonic() < deadline, "server stopped serving after abandoned clients"
            time.sleep(0.1)
    srv.assert_idle()


def test_max_connections_holds_extra_clients_until_a_slot_frees(server):
    srv = server(max_connections=2, keepalive_timeout="10s")
    first, second = srv.raw(), srv.raw()
    try:
        for conn in (first, second):
            conn.send(request_bytes("GET", "/echo"))
            assert conn.read_response().status == 200
        result = {}

        def third():
            try:
                result["resp"] = srv.request(request_bytes("GET", "/echo"))
                result["at"] = time.monotonic()
            except Exception as exc:
                result["error"] = exc

        t = threading.Thread(target=third)
        t.start()
        time.sleep(0.5)
        assert "resp" not in result, "a third connection was served beyond max_connections"
        freed_at = time.monotonic()
        first.close()
        t.join(timeout=5)
        assert "resp" in result, result.get("error")
        assert result["resp"].status == 200
        assert result["at"] >= freed_at
    finally:
        first.close()
        second.close()
