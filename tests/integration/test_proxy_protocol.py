"""PROXY protocol v1 and v2 on a listener with the proxy_protocol bind option, as a load
balancer (HAProxy, an AWS NLB) sends it: raw bytes on real sockets, the client address the
app's scope and the access log then carry, and what happens to everything else: garbage and
a plain HTTP request are closed unanswered, a header cut short is closed at
proxy_protocol_timeout, and the worker keeps serving through all of it."""

import json
import signal
import socket
import struct
import time

from conftest import free_port, write_ini
from master_util import wait_for, wait_gone
from python_apps.harness import pyserver, requires_python  # noqa: F401 (fixture)
from rawhttp import RawConnection, request_bytes
from wsframes import WsClient, new_key, read_http_head, upgrade_request
from wsharness import WS_APP

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
SCOPE = request_bytes("GET", "/scope")


def v2_header(command, family, addresses=b"", tlvs=b""):
    """A v2 header: command 0 LOCAL or 1 PROXY; family 0x11 TCP over IPv4, 0x21 TCP over
    IPv6, 0x31 stream over AF_UNIX, 0x00 UNSPEC."""
    body = addresses + tlvs
    return V2_SIGNATURE + bytes([0x20 | command, family]) + struct.pack("!H", len(body)) + body


def v2_inet(host, port, command=1, tlvs=b""):
    addresses = (socket.inet_pton(socket.AF_INET, host) + socket.inet_pton(socket.AF_INET, "127.0.0.1")
                 + struct.pack("!HH", port, 8000))
    return v2_header(command, 0x11, addresses, tlvs)


def v2_inet6(host, port):
    addresses = (socket.inet_pton(socket.AF_INET6, host) + socket.inet_pton(socket.AF_INET6, "::1")
                 + struct.pack("!HH", port, 443))
    return v2_header(1, 0x21, addresses)


def proxy_server(server, **settings):
    port = free_port()
    return server(bind=f"127.0.0.1:{port} proxy_protocol", **settings)


def scope_after(srv, header, conn=None):
    """The scope the app sees for a request sent in one packet with the header (on conn, left
    open, or on a connection of its own)."""
    if conn is None:
        with srv.raw() as own:
            return scope_after(srv, header, own)
    conn.send(header + SCOPE)
    response = conn.read_response()
    assert response.status == 200, response
    return json.loads(response.body)


def test_v1_tcp4_gives_the_client_address(server):
    srv = proxy_server(server)
    with srv.raw() as conn:
        scope = scope_after(srv, b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n", conn)
        assert scope["client"] == ["192.0.2.7", 56324]
        # the next request on the connection carries no header and keeps the client
        conn.send(SCOPE)
        assert json.loads(conn.read_response().body)["client"] == ["192.0.2.7", 56324]
    # the listener is still the server
    assert scope["server"] == ["127.0.0.1", srv.port]


def test_v1_tcp6_and_unknown(server):
    srv = proxy_server(server)
    scope = scope_after(srv, b"PROXY TCP6 2001:DB8::7 2001:db8::1 4000 80\r\n")
    assert scope["client"] == ["2001:db8::7", 4000]
    # UNKNOWN names no client: the real peer stays
    with srv.raw() as conn:
        scope = scope_after(srv, b"PROXY UNKNOWN\r\n", conn)
        assert scope["client"] == ["127.0.0.1", conn.local_port()]


def test_v2_proxy_and_local_over_tcp(server):
    srv = proxy_server(server)
    assert scope_after(srv, v2_inet("203.0.113.9", 40000))["client"] == ["203.0.113.9", 40000]
    assert scope_after(srv, v2_inet6("2001:db8::9", 41000))["client"] == ["2001:db8::9", 41000]
    # TLVs (ALPN, an AWS VPC endpoint id, NOOP) are skipped
    tlvs = b"\x01\x00\x02h2" + b"\xea\x00\x0d\x01vpce-0123abc" + b"\x04\x00\x00"
    scope = scope_after(srv, v2_inet("203.0.113.10", 40001, tlvs=tlvs))
    assert scope["client"] == ["203.0.113.10", 40001]
    # LOCAL (the balancer's own health check) keeps the real peer, whatever it carries
    with srv.raw() as conn:
        scope = scope_after(srv, v2_inet("203.0.113.11", 1, command=0), conn)
        assert scope["client"] == ["127.0.0.1", conn.local_port()]
    with srv.raw() as conn:
        scope = scope_after(srv, v2_header(0, 0x00), conn)
        assert scope["client"] == ["127.0.0.1", conn.local_port()]


def test_v2_local_discards_its_block_whatever_the_family(server):
    """A LOCAL header's address block is discarded, family included (proxy-protocol.txt): one
    that says TCP over IPv4 and carries no addresses, as some balancers' health checks send
    it, is accepted and the request behind it served with the real peer as client."""
    srv = proxy_server(server)
    for header in (V2_SIGNATURE + b"\x20\x11\x00\x00", v2_header(0, 0x21, b"\x00" * 5)):
        with srv.raw() as conn:
            scope = scope_after(srv, header, conn)
            assert scope["client"] == ["127.0.0.1", conn.local_port()]


def test_an_ipv4_mapped_client_reads_the_same_from_every_source(server, tmp_path):
    """::ffff:198.51.100.7 is the IPv4 client 198.51.100.7 whether a v1 TCP6 line, a v2 INET6
    block or a trusted proxy's X-Forwarded-For names it: the app and the access log get one
    text for one client."""
    access = tmp_path / "access.log"
    srv = proxy_server(server, access_log=str(access), access_log_format="%(h)s %(U)s")
    assert scope_after(srv, b"PROXY TCP6 ::ffff:198.51.100.7 ::1 4000 80\r\n")["client"] == [
        "198.51.100.7", 4000]
    assert scope_after(srv, v2_inet6("::ffff:198.51.100.7", 4001))["client"] == [
        "198.51.100.7", 4001]
    forwarded = request_bytes("GET", "/scope", headers=[("X-Forwarded-For", "::ffff:198.51.100.7")])
    with srv.raw() as conn:
        conn.send(b"PROXY TCP4 127.0.0.1 198.51.100.1 1000 443\r\n" + forwarded)
        assert json.loads(conn.read_response().body)["client"][0] == "198.51.100.7"
    lines = wait_for(lambda: access.exists() and len(access.read_text().splitlines()) == 3 and
                     access.read_text().splitlines(), 5)
    assert lines == ["198.51.100.7 /scope"] * 3, access.read_text() if access.exists() else ""

def test_v2_over_a_unix_socket_listener(server, short_tmp, tmp_path):
    path = str(short_tmp / "pp.sock")
    access = tmp_path / "access.log"
    srv = server(bind=f"unix:{path} proxy_protocol", access_log=str(access),
                 access_log_format="%(h)s %(U)s")
    for header, path_info in ((v2_inet("198.51.100.23", 51000), "/scope"),
                              (v2_header(1, 0x31, b"/run/client.sock".ljust(216, b"\0")), "/pid"),
                              (v2_header(0, 0x00), "/echo")):
        with RawConnection.unix(path) as conn:
            conn.send(header + request_bytes("GET", path_info))
            response = conn.read_response()
            assert response.status == 200
            if path_info == "/scope":
                assert json.loads(response.body)["client"] == ["198.51.100.23", 51000]
    lines = wait_for(lambda: access.exists() and len(access.read_text().splitlines()) == 3 and
                     access.read_text().splitlines(), 5)
    assert lines, access.read_text() if access.exists() else "no access log"
    # the access log's client is the header's; an AF_UNIX source and LOCAL name none
    assert lines[0] == "198.51.100.23 /scope"
    assert lines[1] == "- /pid"
    assert lines[2] == "- /echo"
    srv.stop()


def test_header_split_over_several_writes(server):
    srv = proxy_server(server)
    header = b"PROXY TCP4 192.0.2.44 198.51.100.1 1234 443\r\n"
    with srv.raw() as conn:
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(0, len(header), 5):
            conn.send(header[i:i + 5])
            time.sleep(0.01)
        # the request's first bytes with the header's last write would work too; here apart
        conn.send(SCOPE)
        assert json.loads(conn.read_response().body)["client"] == ["192.0.2.44", 1234]
    v2 = v2_inet("192.0.2.45", 5678)
    with srv.raw() as conn:
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(v2)):
            conn.send(v2[i:i + 1])
            time.sleep(0.005)
        conn.send(SCOPE)
        assert json.loads(conn.read_response().body)["client"] == ["192.0.2.45", 5678]


def test_garbage_is_closed_and_the_worker_keeps_serving(server):
    # debug: every refusal's line (at info, one a second, see the next test)
    srv = proxy_server(server, log_level="debug")
    refusals = [
        (SCOPE, "does not start with a PROXY protocol header"),  # plain HTTP
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "does not start"),  # TLS hello
        (b"PROXY TCP4 192.0.2.7 198.51.100.1 99999 443\r\n" + SCOPE, "a port is not a number"),
        (b"PROXY TCP4 192.0.2.7\t198.51.100.1 1 2\r\n", "not printable ASCII"),
        (b"PROXY TCP4 " + b"9" * 120, "no CRLF within 107 bytes"),
        (V2_SIGNATURE + b"\x31\x11", "the version is not 2"),
        (v2_inet("192.0.2.7", 1, tlvs=b"\x01\x00\x09h2"), "a TLV runs past the header"),
    ]
    for data, rule in refusals:
        with srv.raw() as conn:
            conn.send(data)
            assert conn.is_closed(timeout=5), data
        assert wait_for(lambda: rule in srv.log(), 5), (rule, srv.log())
    assert "closing connection from 127.0.0.1 on a proxy_protocol listener" in srv.log()
    # the same worker serves the next proxied request
    assert scope_after(srv, b"PROXY TCP4 192.0.2.8 198.51.100.1 1 443\r\n")["client"] == \
        ["192.0.2.8", 1]


def test_refusal_lines_are_rate_limited(server):
    """A balancer that sends no header (the option turned on before the balancer's) must not
    write a line per connection: one info line a second, the rest at debug level, counted in
    the next info line. Every refusal is accounted for."""
    srv = proxy_server(server)
    conns = [srv.raw() for _ in range(20)]
    for conn in conns:
        conn.send(SCOPE)
    for conn in conns:
        assert conn.is_closed(timeout=5)
        conn.close()
    time.sleep(1.2)  # past LOG_RATE_LIMIT_INTERVAL_MS
    with srv.raw() as conn:
        conn.send(b"PROXY TCP9\r\n")  # a rule of its own, to know its line
        assert conn.is_closed(timeout=5)

    def refusal_lines():
        lines = [line for line in srv.log().splitlines() if "on a proxy_protocol listener" in line]
        return lines if lines and "TCP4, TCP6 or UNKNOWN" in lines[-1] else None

    lines = wait_for(refusal_lines, 5)
    assert lines, srv.log()
    counted = sum(int(line.split("(and ")[1].split()[0]) for line in lines if "(and " in line)
    assert len(lines) + counted == 21, lines
    assert len(lines) < 21  # twenty refusals within a second: most went to debug


def test_truncated_header_is_closed_at_the_timeout(server):
    srv = proxy_server(server, proxy_protocol_timeout="2s", log_level="debug")
    for partial in (b"PROXY TCP4 192.0.2.7 198.5", v2_inet("192.0.2.7", 1)[:20], b""):
        with srv.raw() as conn:
            conn.send(partial)
            # not refused at once: a valid beginning waits for the rest
            assert not conn.is_closed(timeout=0.3), partial
            assert conn.is_closed(timeout=15), partial
    rule = "no whole PROXY protocol header within proxy_protocol_timeout"
    assert wait_for(lambda: srv.log().count(rule) == 3, 5), srv.log()
    assert scope_after(srv, b"PROXY UNKNOWN\r\n")["client"][0] == "127.0.0.1"


def test_peer_closing_before_the_header_is_logged(server):
    srv = proxy_server(server)
    with srv.raw() as conn:
        conn.send(b"PROXY TCP4 1.2")
        conn.sock.shutdown(socket.SHUT_WR)
        assert conn.is_closed(timeout=5)
    assert wait_for(lambda: "peer closed before a whole PROXY protocol header" in srv.log(), 5)


def test_only_the_listener_with_the_option_reads_headers(server):
    """A PROXY line on a plain listener is an HTTP request line, refused 400 as before; the
    client address of a plain listener is never taken from a header."""
    proxied, plain = free_port(), free_port()
    while plain == proxied:
        plain = free_port()
    server(bind=[f"127.0.0.1:{plain}", f"127.0.0.1:{proxied} proxy_protocol"])
    with RawConnection("127.0.0.1", plain) as conn:
        conn.send(b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n" + SCOPE)
        assert conn.read_response().status == 400
    with RawConnection("127.0.0.1", proxied) as conn:
        conn.send(b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n" + SCOPE)
        assert json.loads(conn.read_response().body)["client"] == ["192.0.2.7", 56324]


def test_reload_turns_the_option_on_and_off_on_the_same_socket(server):
    """A HUP that adds proxy_protocol to a bind keeps its socket (no rebind, which would fail
    while the old one listens) and the new workers read headers; dropping it again turns
    them back to plain HTTP."""
    port = free_port()
    srv = server(bind=f"127.0.0.1:{port}", workers=1)
    for bind, proxied in ((f"127.0.0.1:{port} proxy_protocol", True),
                          (f"127.0.0.1:{port}", False)):
        old = srv.wait_workers(1)
        srv.settings["bind"] = bind
        write_ini(srv.ini_path, srv.settings)
        srv.proc.send_signal(signal.SIGHUP)
        srv.wait_workers(1, timeout=10, differ_from=old)
        for pid in old:
            assert wait_gone(pid, 10), f"old worker {pid} still runs"
        with srv.raw() as conn:
            conn.send(b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n" + SCOPE)
            response = conn.read_response()
        if proxied:
            assert json.loads(response.body)["client"] == ["192.0.2.7", 56324]
        else:
            assert response.status == 400
    assert srv.proc.poll() is None
    assert "Address already in use" not in srv.log()


def test_proxy_headers_are_judged_by_the_header_client(server):
    """forwarded_allow_ips is checked against the PROXY header's client, not the balancer: an
    X-Forwarded-For from a client the header names is that client's own say, ignored; one from
    a proxy the header names as trusted (127.0.0.1, the default) is followed."""
    srv = proxy_server(server)
    spoof = request_bytes("GET", "/scope", headers=[("X-Forwarded-For", "203.0.113.66"),
                                                    ("X-Forwarded-Proto", "https")])
    with srv.raw() as conn:
        conn.send(b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n" + spoof)
        scope = json.loads(conn.read_response().body)
    assert scope["client"] == ["192.0.2.7", 56324]
    assert scope["scheme"] == "http"
    with srv.raw() as conn:
        conn.send(b"PROXY TCP4 127.0.0.1 198.51.100.1 1000 443\r\n" + spoof)
        scope = json.loads(conn.read_response().body)
    assert scope["client"][0] == "203.0.113.66"
    assert scope["scheme"] == "https"


def test_graceful_stop_does_not_wait_for_a_header(server):
    """A connection still waiting for its header has no request to finish: a graceful stop
    closes it at once instead of waiting out graceful_timeout (30 s here) or
    proxy_protocol_timeout (60 s)."""
    srv = proxy_server(server, proxy_protocol_timeout="60s", graceful_timeout="30s")
    assert scope_after(srv, b"PROXY UNKNOWN\r\n")["client"][0] == "127.0.0.1"  # worker up
    with srv.raw() as conn:
        conn.send(b"PROXY TCP4 192.0.2.7")
        assert not conn.is_closed(timeout=0.3)  # accepted and waiting
        srv.proc.send_signal(signal.SIGTERM)
        assert conn.is_closed(timeout=15)
    assert srv.wait_exit(15) == 0, srv.log()


@requires_python
def test_websocket_scope_client_is_the_header_client(pyserver):
    """A WebSocket handshake behind the header: the upgrade keeps the transport, so the
    websocket scope carries the header's client as the http scope does."""
    port = free_port()
    pyserver(WS_APP, bind=f"127.0.0.1:{port} proxy_protocol")
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(v2_inet("203.0.113.77", 47000) + upgrade_request("/scope", key=new_key()))
    status, headers, rest = read_http_head(sock, 5)
    assert status == 101
    with WsClient(sock, status, headers, rest, 5) as ws:
        assert json.loads(ws.recv_text())["client"] == ["203.0.113.77", 47000]


def test_unix_listener_peer_named_by_the_header_is_not_unix(server, short_tmp):
    """forwarded_allow_ips trusts `unix` peers by default; a v2 header with an IP source on a
    Unix-socket listener makes the peer that address, which is not trusted: its
    X-Forwarded-For is ignored. A LOCAL header keeps the Unix peer, which is trusted."""
    path = str(short_tmp / "ppx.sock")
    server(bind=f"unix:{path} proxy_protocol")
    spoof = request_bytes("GET", "/scope", headers=[("X-Forwarded-For", "203.0.113.66")])
    for header, client in ((v2_inet("198.51.100.23", 51000), ["198.51.100.23", 51000]),
                           (v2_header(0, 0x00), ["203.0.113.66", 0])):
        with RawConnection.unix(path) as conn:
            conn.send(header + spoof)
            assert json.loads(conn.read_response().body)["client"] == client
