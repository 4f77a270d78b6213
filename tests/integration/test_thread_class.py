"""Worker classes: with worker_class = thread, blocking app calls run in parallel on the pool;
with worker_class = event, the same native apps work on the loop thread."""

import json
import threading
import time

from rawhttp import request_bytes


def test_thread_class_runs_blocking_requests_in_parallel(server):
    srv = server(worker_class="thread", threads=4)
    srv.assert_serves()  # warm: the pool exists before the clock starts
    results = []

    def one():
        resp = srv.request(request_bytes("GET", "/sleep?ms=500"))
        results.append(resp.status)

    workers = [threading.Thread(target=one) for _ in range(4)]
    start = time.monotonic()
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=10)
    elapsed = time.monotonic() - start
    assert results == [200] * 4
    # Serially it would take 2 s; in parallel ~0.5 s. The bound leaves room for a busy machine.
    assert elapsed < 1.5, f"4 x 500 ms took {elapsed:.2f} s: requests did not run in parallel"


def test_thread_class_serves_bodies_from_pool_threads(server):
    # Body events come back to the app on pool threads; the probe's /echo must still work.
    srv = server(worker_class="thread", threads=4)
    body = bytes(range(256)) * 1000
    resp = srv.request(request_bytes("POST", "/echo", headers=[("Content-Length", len(body))],
                                     body=body))
    assert resp.status == 200 and resp.body == body


def test_event_class_serves_hello(server):
    srv = server(app="hello", worker_class="event")
    resp = srv.request(request_bytes("GET", "/"))
    assert resp.status == 200 and resp.body == b"Hello, world!\n"


def test_event_class_serves_probe(server):
    srv = server(worker_class="event")
    resp = srv.request(request_bytes("POST", "/scope", headers=[("Content-Length", 3)],
                                     body=b"abc"))
    assert resp.status == 200
    assert json.loads(resp.body)["body_length"] == 3


def test_auto_class_picks_a_native_class_for_a_shared_library(server):
    srv = server(worker_class="auto")
    srv.assert_serves()
