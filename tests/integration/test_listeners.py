"""Listeners: IPv4, IPv6 loopback and Unix sockets, alone and together; the scope's server
and client addresses match the listener the request came through."""

import json
import socket

import httpx
import pytest

from conftest import free_port
from rawhttp import RawConnection, request_bytes


def ipv6_loopback_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_ipv4_listener(server):
    srv = server()
    with srv.raw() as conn:
        conn.send(request_bytes("GET", "/scope"))
        scope = json.loads(conn.read_response().body)
        assert scope["server"] == ["127.0.0.1", srv.port]
        assert scope["client"] == ["127.0.0.1", conn.local_port()]


@pytest.mark.skipif(not ipv6_loopback_available(), reason="no IPv6 loopback on this machine")
def test_ipv6_listener(server):
    port = free_port(socket.AF_INET6, "::1")
    srv = server(bind=f"[::1]:{port}")
    with httpx.Client(timeout=5) as client:
        resp = client.get(f"http://[::1]:{port}/scope")
    assert resp.status_code == 200
    scope = resp.json()
    assert scope["server"] == ["::1", port]
    assert scope["client"][0] == "::1"
    assert srv.port == port


def test_unix_socket_listener(server, short_tmp):
    path = str(short_tmp / "asgid.sock")
    srv = server(bind=f"unix:{path}")
    transport = httpx.HTTPTransport(uds=path)
    with httpx.Client(transport=transport, timeout=5) as client:
        resp = client.get("http://localhost/scope")
    assert resp.status_code == 200
    scope = resp.json()
    # ASGI: server is (path, None) for a Unix socket; the client has no address.
    assert scope["server"] == [path, None]
    assert scope["client"] is None


def test_ipv4_and_unix_listeners_together(server, short_tmp):
    path = str(short_tmp / "both.sock")
    port = free_port()
    srv = server(bind=[f"127.0.0.1:{port}", f"unix:{path}"])
    with RawConnection.unix(path) as conn:
        conn.send(request_bytes("GET", "/scope?via=unix"))
        via_unix = json.loads(conn.read_response().body)
    with srv.raw() as conn:
        conn.send(request_bytes("GET", "/scope?via=tcp"))
        via_tcp = json.loads(conn.read_response().body)
    assert via_unix["server"] == [path, None]
    assert via_tcp["server"] == ["127.0.0.1", port]


def test_two_tcp_ports(server):
    first = second = free_port()
    while second == first:
        second = free_port()
    server(bind=[f"127.0.0.1:{first}", f"127.0.0.1:{second}"])
    for port in (first, second):
        with RawConnection("127.0.0.1", port) as conn:
            conn.send(request_bytes("GET", "/scope"))
            assert json.loads(conn.read_response().body)["server"] == ["127.0.0.1", port]
