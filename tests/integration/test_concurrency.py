"""Many clients at once on one worker: every response reaches the right client, under both
worker classes; limit_concurrency."""

import json
import threading
import time

import pytest

from rawhttp import request_bytes


@pytest.mark.parametrize("worker_class", ["event", "thread"])
def test_fifty_clients_with_keep_alive(server, worker_class):
    srv = server(worker_class=worker_class, threads=4)
    errors = []

    def client(cid):
        try:
            with srv.raw(timeout=10) as conn:
                for i in range(10):
                    body = f"client {cid} request {i}".encode()
                    conn.send(request_bytes("POST", f"/scope?c={cid}&i={i}",
                                            headers=[("Content-Length", len(body))],
                                            body=body))
                    resp = conn.read_response()
                    scope = json.loads(resp.body)
                    if (scope["query_string"], scope["body_length"],
                            scope["client"][1]) != (f"c={cid}&i={i}", len(body),
                                                    conn.local_port()):
                        errors.append((cid, i, scope))
        except Exception as exc:
            errors.append((cid, repr(exc)))

    threads = [threading.Thread(target=client, args=(c,)) for c in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert not errors, errors[:5]


def test_limit_concurrency_answers_503_with_retry_after_beyond_the_limit(server):
    # Two requests in progress (blocking in the app, on the thread class) fill a limit of 2:
    # a third gets 503 with Retry-After at once and never reaches the app; once the two are
    # done, requests are served again.
    srv = server(worker_class="thread", threads=4, limit_concurrency=2, access_log="-")
    slow = [srv.raw(timeout=10) for _ in range(2)]
    try:
        for conn in slow:
            conn.send(request_bytes("GET", "/sleep?ms=1500"))
        time.sleep(0.5)  # both are in the app
        start = time.monotonic()
        resp = srv.request(request_bytes("GET", "/echo"))
        assert resp.status == 503, resp
        assert resp.header("retry-after") == "1"
        assert time.monotonic() - start < 1.0  # refused at once, not queued
        for conn in slow:
            assert conn.read_response().status == 200
    finally:
        for conn in slow:
            conn.close()
    srv.assert_serves()
    assert "limit_concurrency" in srv.log()
    assert '"GET /echo HTTP/1.1" 503 ' in srv.stdout()


def test_limit_concurrency_off_by_default(server):
    srv = server(worker_class="thread", threads=4)
    slow = [srv.raw(timeout=10) for _ in range(3)]
    try:
        for conn in slow:
            conn.send(request_bytes("GET", "/sleep?ms=500"))
        for conn in slow:
            assert conn.read_response().status == 200
    finally:
        for conn in slow:
            conn.close()
