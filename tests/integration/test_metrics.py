"""The master's metrics listener (metrics_bind, docs/deploying.md "Metrics and health"): the
Prometheus text, read by python3-prometheus-client's parser, counts exactly what two workers
answered once their heartbeats have landed, never more; counts survive a worker killed with
SIGKILL; the classes, the histogram, the gauges, the process series and build info; the
listener's own HTTP rules (404, 405, HEAD, a malformed head, a head too slow) leave the master
serving; a metrics_bind that cannot be bound stops the start with a line naming it."""

import os
import signal
import socket
import subprocess
import time

from conftest import ASGID_BIN, app_path, run_asgid
from master_util import get_pid, read_pidfile, wait_for, wait_gone
from metrics_util import get, metrics_settings, requests_total, scrape, status_of, total
from rawhttp import request_bytes
from wsframes import WsClient

# timeout 2s: a heartbeat every 500 ms (channel_heartbeat_interval_ms), so counts land fast.
HEARTBEAT_S = 0.5


def start(server, **settings):
    metrics, port = metrics_settings()
    settings = {"workers": 2, "timeout": "2s", **metrics, **settings}
    srv = server(**settings)
    assert wait_for(lambda: status_of(port, "/readyz") == 200, 10), srv.log()
    return srv, port


def settled(port, name, expected, timeout=5.0):
    """Scrapes until the sum of `name` reaches expected (a heartbeat landed); fails if it
    ever goes past it. Returns the last scrape."""
    last = {}

    def reached():
        last["samples"] = scrape(port)
        value = total(last["samples"], name)
        assert value <= expected, f"{name} is {value}, more than the {expected} made"
        return value == expected
    assert wait_for(reached, timeout, interval=0.05), \
        f"{name} stayed at {total(last['samples'], name)}, not {expected}"
    return last["samples"]


def test_counts_are_exact_across_two_workers_and_survive_kill_9(server):
    srv, port = start(server)
    before = requests_total(scrape(port))
    assert before == 0  # scrapes and probes are the master's, not requests to the app
    # Fresh connections until both workers have answered, at least 40 requests in all.
    served = {}
    n = 0
    while n < 40 or len(served) < 2:
        pid = get_pid(srv)
        served[pid] = served.get(pid, 0) + 1
        n += 1
        assert n < 2000, "one worker took every connection"
    samples = settled(port, "asgid_http_requests_total", before + n)
    assert requests_total(samples, method="GET", status="2xx") == n
    assert total(samples, "asgid_http_request_duration_seconds_count") == n
    # Another heartbeat from each worker adds nothing: they report totals, not increments.
    time.sleep(3 * HEARTBEAT_S)
    assert requests_total(scrape(port)) == before + n
    # A worker that served some of them dies without a word: what it reported stays.
    victim = max(served, key=served.get)
    os.kill(victim, signal.SIGKILL)
    srv.wait_workers(2, differ_from={victim})
    assert wait_for(lambda: status_of(port, "/readyz") == 200, 10)
    samples = scrape(port)
    assert requests_total(samples) == before + n
    assert total(samples, "asgid_worker_exits_total", cause="crash") == 1
    assert total(samples, "asgid_worker_starts_total") == 3
    # The counters go on from there.
    for _ in range(5):
        get_pid(srv)
    settled(port, "asgid_http_requests_total", before + n + 5)


def test_workers_that_stop_hand_over_their_last_counts(server):
    # timeout 30s: a heartbeat every second. The requests are made and the workers replaced
    # (HUP) well within one: what the old workers counted arrives only in the last heartbeat
    # each sends as it exits.
    srv, port = start(server, timeout="30s")
    old = srv.wait_workers(2)
    time.sleep(1.2)  # every worker has sent a heartbeat: the next ones are a second away
    n = 20
    for _ in range(n):
        get_pid(srv)
    os.kill(srv.proc.pid, signal.SIGHUP)
    srv.wait_workers(2, differ_from=old)
    assert wait_for(lambda: total(scrape(port), "asgid_worker_exits_total", cause="stop") == 2,
                    5), srv.log()
    assert requests_total(scrape(port)) == n


def test_exits_by_cause(server):
    # One worker that retires after 3 requests (max_requests), then its replacement hangs.
    srv, port = start(server, workers=1, max_requests=3, max_requests_jitter=0,
                      worker_class="event")
    (first,) = srv.wait_workers(1)
    for _ in range(3):
        get_pid(srv)
    (second,) = srv.wait_workers(1, differ_from={first})
    assert wait_for(lambda: total(scrape(port), "asgid_worker_exits_total", cause="retire") == 1,
                    5), srv.log()
    assert requests_total(scrape(port)) == 3  # its last heartbeat came as it exited
    hung = srv.raw(timeout=20)
    hung.send(request_bytes("GET", "/spin?ms=20000"))
    try:
        srv.wait_workers(1, timeout=15, differ_from={second})
        assert wait_for(
            lambda: total(scrape(port), "asgid_worker_exits_total", cause="timeout") == 1, 5)
    finally:
        hung.close()
    samples = scrape(port)
    assert total(samples, "asgid_worker_exits_total", cause="crash") == 0
    assert total(samples, "asgid_worker_exits_total", cause="stop") == 0
    assert total(samples, "asgid_worker_starts_total") == 3


def test_classes_histogram_bytes_and_connections(server):
    srv, port = start(server, workers=1)
    made = [("GET", "/echo", 200), ("HEAD", "/echo", 200), ("POST", "/echo", 200),
            ("GET", "/status?code=404", 404), ("GET", "/status?code=503", 503),
            ("PROPFIND", "/echo", 200), ("GET", "/no-response", 500)]
    sent = 0
    for method, path, status in made:
        data = request_bytes(method, path, headers=[("Connection", "close")])
        sent += len(data)
        resp = srv.request(data)
        assert resp.status == status, (method, path, resp)
    # A head the server refuses itself counts too, as the access log shows it.
    bad = b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
    sent += len(bad)
    assert srv.request(bad).status == 400
    samples = settled(port, "asgid_http_requests_total", len(made) + 1)
    assert requests_total(samples, method="GET", status="2xx") == 1
    assert requests_total(samples, method="HEAD") == 1
    assert requests_total(samples, method="POST") == 1
    assert requests_total(samples, method="other") == 1  # PROPFIND
    assert requests_total(samples, status="4xx") == 2
    assert requests_total(samples, status="5xx") == 2
    # The histogram: cumulative buckets ending in +Inf, its count the requests'.
    buckets = sorted((float(dict(ls)["le"]), v) for (n, ls), v in samples.items()
                     if n == "asgid_http_request_duration_seconds_bucket")
    assert buckets[-1] == (float("inf"), len(made) + 1)
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:]))
    assert total(samples, "asgid_http_request_duration_seconds_sum") > 0
    assert total(samples, "asgid_received_bytes_total") == sent
    assert total(samples, "asgid_sent_bytes_total") > 0
    # Idle keep-alive connections are open connections, not requests in flight.
    conns = [srv.raw() for _ in range(3)]
    try:
        for c in conns:
            c.send(request_bytes("GET", "/echo"))
            assert c.read_response().status == 200
        assert wait_for(lambda: total(scrape(port), "asgid_connections_open") == 3, 5)
        assert total(scrape(port), "asgid_http_requests_in_flight") == 0
    finally:
        for c in conns:
            c.close()
    assert wait_for(lambda: total(scrape(port), "asgid_connections_open") == 0, 5)


def test_process_series_and_build_info(server):
    srv, port = start(server)
    pids = srv.wait_workers(2)
    assert wait_for(lambda: len([1 for (n, _), v in scrape(port).items()
                                 if n == "asgid_worker_resident_memory_bytes" and v > 0]) == 2, 5)
    samples = scrape(port)
    workers = {dict(ls)["worker"] for (n, ls) in samples if n == "asgid_worker_cpu_seconds_total"}
    assert workers == {"1", "2"} and len(pids) == 2
    assert total(samples, "asgid_workers", state="ready") == 2
    assert total(samples, "asgid_ready") == 1
    assert total(samples, "asgid_uptime_seconds") > 0
    (info,) = [dict(ls) for (n, ls) in samples if n == "asgid_build_info"]
    version = subprocess.run([str(ASGID_BIN), "--version"], capture_output=True, text=True,
                             check=True).stdout
    # "asgid 0.1.0 (Python 3.11.2, llhttp 9.2.1, libuv 1.44.2)"
    assert version.startswith(f"asgid {info['version']} ")
    assert f"llhttp {info['llhttp']}," in version
    assert (f"Python {info['python']}," in version) if info["python"] else "Python" not in version
    # A reload is counted.
    os.kill(srv.proc.pid, signal.SIGHUP)
    assert wait_for(lambda: total(scrape(port), "asgid_reloads_total") == 1, 5)


def raw_exchange(port, data, timeout=5.0):
    """Sends bytes to the metrics listener and reads until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def test_the_listeners_http_rules(server):
    srv, port = start(server, workers=1, header_timeout="500ms")
    assert get(port, "/nothing")[0] == 404
    answer = raw_exchange(port, b"HEAD /nothing HTTP/1.1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 404 ") and answer.endswith(b"\r\n\r\n"), answer
    status, headers, _ = get(port, "/metrics", method="POST")
    assert status == 405 and headers["allow"] == "GET, HEAD"
    status, headers, body = get(port, "/metrics", method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0
    assert get(port, "/metrics?name[]=x")[0] == 200  # Prometheus' params are ignored
    assert get(port, "/healthz")[0:3:2] == (200, b"ok\n")
    answer = raw_exchange(port, b"GET /metrics HTTP/9.9\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    answer = raw_exchange(port, b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 5000 + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431 "), answer
    # A client that never completes its head is closed after header_timeout, unanswered.
    began = time.monotonic()
    assert raw_exchange(port, b"GET /metr") == b""
    assert time.monotonic() - began < 4
    assert "metrics listener: 400: a request line must end with HTTP/1.0 or HTTP/1.1" in srv.log()
    assert get(port, "/readyz")[0] == 200  # the master serves on
    srv.assert_serves()


def test_idle_connections_cannot_starve_the_probes(server):
    """More clients than metrics_connections that each send part of a head and wait must not
    keep /healthz from answering: when the listener is full the oldest of them makes room."""
    srv, port = start(server, workers=1, metrics_connections="8", metrics_timeout="60s")
    idle = []
    try:
        for _ in range(10):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(b"GET /me")
            idle.append(s)
        # Well under metrics_timeout: the probes are answered at once, not after it.
        assert status_of(port, "/healthz", timeout=1.5) == 200, srv.log()
        assert status_of(port, "/readyz", timeout=1.5) == 200, srv.log()
        # The oldest made room, long before metrics_timeout: closed, with a reset when its
        # bytes were still unread.
        try:
            assert idle[0].recv(1) == b""
        except ConnectionResetError:
            pass
    finally:
        for s in idle:
            s.close()
    assert "metrics listener: full: closed the oldest connection without a whole head" \
        in srv.log(), srv.log()
    srv.assert_serves()


def test_a_silent_client_is_closed_at_metrics_timeout(server):
    """Not at header_timeout (60 s here): the listener's own deadline, short by default."""
    srv, port = start(server, workers=1, header_timeout="60s", metrics_timeout="300ms")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /me")
        began = time.monotonic()
        assert s.recv(1) == b""
        assert time.monotonic() - began < 10
    assert status_of(port, "/healthz", timeout=5) == 200


def test_unix_socket_listener(server, short_tmp):
    path = f"{short_tmp}/metrics.sock"
    srv = server(metrics_bind=f"unix:{path}")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(b"\r\n\r\nok\n"), data
    srv.stop()
    assert not os.path.exists(path), "the master left its metrics socket file behind"


def test_a_metrics_bind_in_use_stops_the_start(server):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        srv = server(metrics_bind=f"127.0.0.1:{port}", start=False)
        srv.start(wait=False)
        assert srv.wait_exit(10) == 1
    assert f"metrics_bind 127.0.0.1:{port}: " in srv.log(), srv.log()


def test_the_start_refuses_a_metrics_bind_with_proxy_protocol(server):
    srv = server(metrics_bind="127.0.0.1:9000 proxy_protocol", start=False)
    srv.start(wait=False)
    assert srv.wait_exit(10) == 1
    assert "metrics_bind 127.0.0.1:9000 proxy_protocol: the metrics listener takes no " \
        "proxy_protocol" in srv.log(), srv.log()


def test_a_second_instance_cannot_share_the_metrics_port(server):
    """No SO_REUSEPORT on the metrics socket: a second asgid on the same metrics_bind would
    otherwise take half of the probes meant for the first."""
    srv, port = start(server, workers=1)
    other = server(metrics_bind=f"127.0.0.1:{port}", workers=1, start=False)
    other.start(wait=False)
    assert other.wait_exit(10) == 1, other.log()
    assert f"metrics_bind 127.0.0.1:{port}: " in other.log(), other.log()
    assert status_of(port, "/readyz") == 200
    srv.assert_serves()


def test_usr2_hands_the_metrics_socket_to_the_new_master(server, tmp_path):
    pidfile = tmp_path / "asgid.pid"
    srv, port = start(server, workers=1, pidfile=pidfile)
    old = srv.proc.pid
    assert wait_for(lambda: read_pidfile(pidfile) == old, 5)
    srv.proc.send_signal(signal.SIGUSR2)
    new = wait_for(lambda: (read_pidfile(pidfile) or old) != old and read_pidfile(pidfile), 10)
    assert new, srv.log()
    try:
        srv.wait_workers(1, master=new, timeout=10)
        assert wait_for(lambda: srv.log().count("metrics and health on") == 2, 5), srv.log()
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.wait_exit(10) == 0, srv.log()
        # The old master closed its copy; the new one answers on the same socket.
        assert wait_for(lambda: status_of(port, "/readyz") == 200, 10), srv.log()
        assert "Address already in use" not in srv.log()
    finally:
        os.kill(new, signal.SIGTERM)
        wait_gone(new, 10)


def test_check_config_checks_metrics_bind():
    app = str(app_path("probe"))
    code, out = run_asgid(["--check-config", "--app", app, "--metrics-bind", "fd://3"])
    assert code != 0 and "metrics_bind fd://3: takes HOST:PORT or unix:PATH" in out, out
    code, out = run_asgid(["--check-config", "--app", app, "--metrics-bind", "nowhere.invalid:9000"])
    assert code != 0 and "metrics_bind nowhere.invalid:9000: " in out, out
    code, out = run_asgid(["--check-config", "--app", app, "--metrics-bind", "127.0.0.1:9000"])
    assert code == 0, out
    # What the start refuses, the check refuses with the same words.
    pp = "127.0.0.1:9000 proxy_protocol"
    code, out = run_asgid(["--check-config", "--app", app, "--metrics-bind", pp])
    assert code != 0 and f"metrics_bind {pp}: the metrics listener takes no proxy_protocol" \
        in out, out


def test_open_websockets(server):
    srv, port = start(server, app="ws_echo", workers=1)
    clients = [WsClient.connect(srv.host, srv.port, "/") for _ in range(2)]
    try:
        for c in clients:
            c.send_message(b"hi")
            assert c.recv_message()[1] == b"hi"
        assert wait_for(lambda: total(scrape(port), "asgid_websockets_open") == 2, 5)
        assert total(scrape(port), "asgid_connections_open") == 2
        clients.pop().close_handshake()
        assert wait_for(lambda: total(scrape(port), "asgid_websockets_open") == 1, 5)
    finally:
        for c in clients:
            c.close()
    assert wait_for(lambda: total(scrape(port), "asgid_websockets_open") == 0, 5)
    # A WebSocket is not an HTTP request of the requests series.
    assert requests_total(scrape(port)) == 0
