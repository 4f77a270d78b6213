"""Proxy headers (forwarded_allow_ips): from a trusted peer, X-Forwarded-For (the right-most
untrusted entry of the right-most 64), -Proto (scheme http/https, ws/wss), with
forwarded_host -Host and -Port, or RFC 7239 Forwarded (forwarded_headers) set the scope's
client, scheme and Host header; from an untrusted peer the same headers reach the app
untouched and change nothing. Unix-socket peers, the access log, the Python scope, a
malformed header from a trusted proxy (logged at most once a second, ignored, served; an
unreadable client entry leaves the client unknown, never the proxy), --check-config, and a
real nginx in front, its client on 127.0.0.2 (loopback, but not a trusted proxy)."""

import json
import re
import signal
import time

import httpx
import pytest

from conftest import app_path, free_port, run_asgid, write_ini
from master_util import wait_for
from nginx_util import requires_nginx, start_nginx
from python_apps.harness import PROBE, get_json, pyserver, requires_python  # noqa: F401
from rawhttp import request_bytes
from wsharness import WS_APP, connect

SPOOF = [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-Proto", "https"),
         ("X-Forwarded-Host", "evil.example"), ("X-Forwarded-Port", "8443"),
         ("Forwarded", 'for="[2001:db8::6]";proto=https;host=evil2.example')]


def scope_with(srv, headers, host="app.internal"):
    """The probe's scope of GET /scope with headers, and the client port of the request."""
    with srv.raw() as conn:
        conn.send(request_bytes("GET", "/scope", headers=headers, host=host))
        resp = conn.read_response()
        port = conn.local_port()
    assert resp.status == 200, resp
    return json.loads(resp.body), port


def header_values(scope, name):
    return [v for n, v in scope["headers"] if n == name]


def wait_for_log(srv, text, timeout=5):
    return wait_for(lambda: text in srv.log(), timeout)


def test_trusted_peer_sets_client_and_scheme(server):
    # The default trusts 127.0.0.1, as uvicorn's: the test client is that proxy.
    srv = server()
    scope, _ = scope_with(srv, [("X-Forwarded-For", "203.0.113.7"),
                                ("X-Forwarded-Proto", "https")])
    assert scope["client"] == ["203.0.113.7", 0]
    assert scope["scheme"] == "https"
    assert scope["server"] == ["127.0.0.1", srv.port]  # the listening address, as ASGI says
    # the headers themselves still reach the app
    assert header_values(scope, "x-forwarded-for") == ["203.0.113.7"]


def test_untrusted_peer_changes_nothing(server):
    srv = server(forwarded_allow_ips="10.0.0.0/8")
    scope, port = scope_with(srv, SPOOF)
    assert scope["client"] == ["127.0.0.1", port]
    assert scope["scheme"] == "http"
    assert header_values(scope, "host") == ["app.internal"]
    for name, value in SPOOF:
        assert header_values(scope, name.lower()) == [value]
    assert srv.stop() == 0, srv.log()  # every line written
    assert "ignored" not in srv.log() and "unknown" not in srv.log(), srv.log()


def test_right_most_untrusted_address_is_the_client(server):
    srv = server(forwarded_allow_ips=["127.0.0.1", "10.0.0.0/8, fd00::/8"])
    # the client wrote 1.1.1.1 itself; 203.0.113.7 is what the first trusted proxy saw
    scope, _ = scope_with(srv, [("X-Forwarded-For", "1.1.1.1, 203.0.113.7"),
                                ("X-Forwarded-For", "10.0.0.5, fd00::1")])
    assert scope["client"] == ["203.0.113.7", 0]
    # every entry trusted: the left-most
    scope, _ = scope_with(srv, [("X-Forwarded-For", "10.1.1.1, 10.2.2.2")])
    assert scope["client"] == ["10.1.1.1", 0]


def test_a_padded_header_cannot_make_the_proxy_the_client(server):
    # Only the right-most 64 entries are walked: padding cannot push the proxy's entry out
    srv = server()
    padded = ", ".join(["1.1.1.1"] + ["6.6.6.6"] * 100 + ["203.0.113.7"])
    scope, _ = scope_with(srv, [("X-Forwarded-For", padded)])
    assert scope["client"] == ["203.0.113.7", 0]
    # ... nor, with the right-most 64 all trusted, make the trusted peer the client
    padded = ", ".join(["203.0.113.7"] + ["127.0.0.1"] * 70)
    scope, _ = scope_with(srv, [("X-Forwarded-For", padded)])
    assert scope["client"] is None
    assert wait_for_log(srv, "the right-most 64 all trusted proxies: the client is unknown")


def test_an_unclosed_quote_leaves_the_client_unknown(server):
    srv = server(forwarded_headers="forwarded")
    scope, _ = scope_with(srv, [("Forwarded", 'for="1.1.1.1'),
                                ("Forwarded", "for=198.51.100.7")])
    assert scope["client"] is None
    assert wait_for_log(srv, "Forwarded ignored: a quoted string is not closed")


def test_star_trusts_every_peer_and_entry(server):
    srv = server(forwarded_allow_ips="*")
    scope, _ = scope_with(srv, [("X-Forwarded-For", "198.51.100.1, 203.0.113.7")])
    assert scope["client"] == ["198.51.100.1", 0]


def test_forwarded_host_is_off_by_default(server):
    # nginx and AWS ALB pass a client's X-Forwarded-Host along: it must not become the Host
    srv = server()
    scope, _ = scope_with(srv, [("X-Forwarded-Host", "evil.example"),
                                ("X-Forwarded-Port", "8443"),
                                ("X-Forwarded-For", "203.0.113.7")])
    assert header_values(scope, "host") == ["app.internal"]
    assert header_values(scope, "x-forwarded-host") == ["evil.example"]
    assert scope["client"] == ["203.0.113.7", 0]  # the rest still counts
    srv = server(forwarded_headers="forwarded")
    scope, _ = scope_with(srv, [("Forwarded", "for=198.51.100.7;host=evil.example")])
    assert header_values(scope, "host") == ["app.internal"]
    assert scope["client"] == ["198.51.100.7", 0]


def test_forwarded_host_and_port_make_the_host_header(server):
    srv = server(forwarded_host="on")
    scope, _ = scope_with(srv, [("X-Forwarded-Proto", "https"),
                                ("X-Forwarded-Host", "public.example"),
                                ("X-Forwarded-Port", "443")])
    assert header_values(scope, "host") == ["public.example"]  # 443 is https's own
    scope, _ = scope_with(srv, [("X-Forwarded-Proto", "https"),
                                ("X-Forwarded-Host", "public.example:9000"),
                                ("X-Forwarded-Port", "8443")])
    assert header_values(scope, "host") == ["public.example:8443"]
    # the port alone replaces the request's own Host port
    scope, _ = scope_with(srv, [("X-Forwarded-Port", "8080")], host="app.internal:8000")
    assert header_values(scope, "host") == ["app.internal:8080"]
    assert scope["scheme"] == "http"
    # an HTTP/1.0 request without Host gets the forwarded one
    with srv.raw() as conn:
        conn.send(request_bytes("GET", "/scope", version="HTTP/1.0",
                                headers=[("X-Forwarded-Host", "[2001:db8::5]:8000")]))
        scope = json.loads(conn.read_response().body)
    assert header_values(scope, "host") == ["[2001:db8::5]:8000"]


def test_rfc7239_forwarded(server):
    srv = server(forwarded_headers="forwarded", forwarded_host="on")
    scope, _ = scope_with(srv, [("Forwarded", 'for=198.51.100.9;proto=http, '
                                              'for="[2001:db8:cafe::17]:4711";proto=https;'
                                              'host=api.example')])
    assert scope["client"] == ["2001:db8:cafe::17", 4711]
    assert scope["scheme"] == "https"
    assert header_values(scope, "host") == ["api.example"]
    # for=unknown: the proxy does not know the client; the scope says so
    scope, _ = scope_with(srv, [("Forwarded", "for=unknown;proto=https")])
    assert scope["client"] is None
    assert scope["scheme"] == "https"


def test_forwarded_headers_chooses_the_family(server):
    # Behind nginx (X-Forwarded-For), a client's own Forwarded header arrives untouched.
    srv = server()
    scope, _ = scope_with(srv, [("Forwarded", "for=6.6.6.6;proto=https"),
                                ("X-Forwarded-For", "203.0.113.7")])
    assert scope["client"] == ["203.0.113.7", 0]
    assert scope["scheme"] == "http"
    # Behind a proxy that writes Forwarded only, a client's own X-Forwarded-* change nothing
    srv = server(forwarded_headers="forwarded")
    spoof = [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-Proto", "https")]
    scope, _ = scope_with(srv, spoof + [("Forwarded", "for=198.51.100.7;proto=http")])
    assert scope["client"] == ["198.51.100.7", 0]
    assert scope["scheme"] == "http"
    scope, port = scope_with(srv, spoof)
    assert scope["client"] == ["127.0.0.1", port]
    assert scope["scheme"] == "http"
    assert header_values(scope, "x-forwarded-for") == ["6.6.6.6"]


def test_malformed_header_from_trusted_proxy_is_logged_and_ignored(server):
    srv = server(forwarded_host="on")
    scope, port = scope_with(srv, [("X-Forwarded-Proto", "gopher"),
                                   ("X-Forwarded-Host", "evil.example/path")])
    assert scope["scheme"] == "http"
    assert header_values(scope, "host") == ["app.internal"]
    assert scope["client"] == ["127.0.0.1", port]
    wait_for_log(srv, "X-Forwarded-Host ignored")
    assert re.search(r"X-Forwarded-Host ignored: not a host name.*from trusted proxy "
                     r"127\.0\.0\.1", srv.log()), srv.log()
    srv.assert_serves()


def test_malformed_header_lines_are_rate_limited(server):
    """nginx passes a client's own X-Forwarded-Proto along: a client must not be able to write
    a line per request. One info line a second, the rest at debug level, counted in the next
    info line: every one is accounted for."""
    srv = server()
    with srv.raw() as conn:
        for _ in range(30):
            conn.send(request_bytes("GET", "/echo", headers=[("X-Forwarded-Proto", "gopher")]))
            assert conn.read_response().status == 200
    time.sleep(1.2)  # past LOG_RATE_LIMIT_INTERVAL_MS
    srv.request(request_bytes("GET", "/echo", headers=[("X-Forwarded-Proto", "gopher")]))
    assert srv.stop() == 0, srv.log()  # every line written

    lines = [line for line in srv.log().splitlines() if "X-Forwarded-Proto ignored" in line]
    counted = sum(int(line.split("(and ")[1].split()[0]) for line in lines if "(and " in line)
    assert len(lines) + counted == 31, lines
    assert counted > 0, lines


def test_unix_socket_peers(server, short_tmp):
    path = str(short_tmp / "fwd.sock")
    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    srv = server(bind=f"unix:{path}")  # the default trusts Unix-socket peers
    with httpx.Client(transport=httpx.HTTPTransport(uds=path), timeout=5) as client:
        scope = client.get("http://localhost/scope", headers=headers).json()
    assert scope["client"] == ["203.0.113.7", 0]
    assert scope["scheme"] == "https"
    srv.stop()
    srv = server(bind=f"unix:{path}", forwarded_allow_ips="127.0.0.1")
    with httpx.Client(transport=httpx.HTTPTransport(uds=path), timeout=5) as client:
        scope = client.get("http://localhost/scope", headers=headers).json()
    assert scope["client"] is None
    assert scope["scheme"] == "http"


def test_access_log_shows_the_forwarded_client(server, tmp_path):
    log = tmp_path / "access.log"
    srv = server(access_log=str(log))
    srv.request(request_bytes("GET", "/echo", headers=[("X-Forwarded-For", "203.0.113.7")]))
    srv.request(request_bytes("GET", "/echo"))
    assert srv.stop() == 0, srv.log()
    lines = log.read_text().splitlines()
    assert lines[0].startswith("203.0.113.7 "), lines
    assert lines[1].startswith("127.0.0.1 "), lines


def test_check_config_names_an_invalid_entry(tmp_path):
    code, out = run_asgid(["--app", app_path("probe"), "--forwarded-allow-ips",
                           "10.0.0.0/8, proxy.internal", "--check-config"])
    assert code != 0, out
    assert 'forwarded_allow_ips: "proxy.internal" is not an IP address' in out, out


def test_reload_applies_the_list_and_leaves_out_an_invalid_entry(server):
    srv = server(forwarded_allow_ips="10.0.0.0/8")
    old = srv.wait_workers(1)
    xff = [("X-Forwarded-For", "203.0.113.7")]
    assert scope_with(srv, xff)[0]["client"][0] == "127.0.0.1"  # not trusted yet
    # the reload trusts 127.0.0.1; its typo is left out, said so, and the worker serves on
    srv.settings["forwarded_allow_ips"] = ["127.0.0.1, 10.0.0.0/88"]
    srv.ini_text = write_ini(srv.ini_path, srv.settings)
    srv.proc.send_signal(signal.SIGHUP)
    srv.wait_workers(1, timeout=10, differ_from=old)
    assert wait_for(lambda: scope_with(srv, xff)[0]["client"][0] == "203.0.113.7", 10), \
        srv.log()
    assert re.search(r'forwarded_allow_ips: "10\.0\.0\.0/88" is not an IP address.*left out',
                     srv.log()), srv.log()


@requires_python
def test_python_scope_scheme_and_client(pyserver):
    srv = pyserver(PROBE)
    scope = get_json(srv, "/scope", headers=[("X-Forwarded-For", "203.0.113.7"),
                                             ("X-Forwarded-Proto", "https")])
    assert scope["scheme"] == "https"
    assert scope["client"] == ["203.0.113.7", 0]
    assert get_json(srv, "/scope")["scheme"] == "http"


@requires_python
def test_websocket_access_log_shows_the_forwarded_client(pyserver, tmp_path):
    log = tmp_path / "access.log"
    srv = pyserver(WS_APP, access_log=str(log))
    with connect(srv, "/echo", headers=[("X-Forwarded-For", "203.0.113.7")]) as c:
        c.close_handshake(1000)
    assert srv.stop() == 0, srv.log()
    lines = log.read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("203.0.113.7 "), lines


@requires_python
def test_websocket_scheme_wss_from_trusted_proxy_only(pyserver):
    srv = pyserver(WS_APP)
    with connect(srv, "/scope", headers=[("X-Forwarded-Proto", "https"),
                                         ("X-Forwarded-For", "203.0.113.7")]) as c:
        scope = json.loads(c.recv_text())
        c.close_handshake(1000)
    assert scope["scheme"] == "wss"
    assert scope["client"] == ["203.0.113.7", 0]
    srv.stop()
    srv = pyserver(WS_APP, forwarded_allow_ips="10.0.0.0/8")
    with connect(srv, "/scope", headers=[("X-Forwarded-Proto", "https")]) as c:
        scope = json.loads(c.recv_text())
        c.close_handshake(1000)
    assert scope["scheme"] == "ws"
    assert scope["client"][0] == "127.0.0.1"


def start_proxy(prefix, port, upstream_port):
    """nginx on 127.0.0.1:port in front of asgid, set up as docs/deploying.md says (without
    the forwarded_host lines: a client's X-Forwarded-Host passes through)."""
    return start_nginx(prefix, f"""
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://127.0.0.1:{upstream_port};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}""", f"http://127.0.0.1:{port}/echo")


@requires_nginx
def test_behind_nginx_the_app_sees_the_client_not_the_spoof(server, tmp_path):
    srv = server()  # the default trusts 127.0.0.1: nginx here
    port = free_port()
    proc = start_proxy(tmp_path / "nginx", port, srv.port)
    # the client connects from 127.0.0.2 (loopback, not trusted) with a header of its own
    client = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=5)
    try:
        with client:
            spoof = {"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https",
                     "X-Forwarded-Host": "evil.example"}
            scope = client.get(f"http://127.0.0.1:{port}/scope", headers=spoof).json()
            # 70 padding entries: nginx's append is still walked
            padded = {"X-Forwarded-For": ", ".join(["127.0.0.1"] * 70)}
            padded_scope = client.get(f"http://127.0.0.1:{port}/scope", headers=padded).json()
            # straight to asgid, the same client and headers change nothing
            direct = client.get(f"http://127.0.0.1:{srv.port}/scope", headers=spoof).json()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert scope["client"] == ["127.0.0.2", 0]
    assert scope["scheme"] == "http"  # nginx's $scheme, not the client's https
    assert header_values(scope, "x-forwarded-for") == ["6.6.6.6, 127.0.0.2"]
    assert header_values(scope, "host") == ["127.0.0.1"]  # nginx's $host, not evil.example
    assert header_values(scope, "x-forwarded-host") == ["evil.example"]
    assert padded_scope["client"] == ["127.0.0.2", 0]
    assert direct["client"][0] == "127.0.0.2" and direct["client"][1] != 0
    assert direct["scheme"] == "http"
    assert header_values(direct, "x-forwarded-for") == ["6.6.6.6"]
