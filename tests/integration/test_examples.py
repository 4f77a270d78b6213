"""The example apps behave as their headers describe (hello and echo are covered by
test_basic and test_body): stream.so sends parts, slow.so blocks only a pool thread."""

import threading
import time

import httpx

from rawhttp import request_bytes


def test_stream_sends_its_parts_chunked(server):
    srv = server(app="stream")
    resp = srv.request(request_bytes("GET", "/?parts=3"))
    assert resp.status == 200
    assert resp.header("transfer-encoding") == "chunked"
    assert resp.body == b"part 1\npart 2\npart 3\n"


def test_stream_rejects_a_bad_parts_value(server):
    srv = server(app="stream")
    resp = srv.request(request_bytes("GET", "/?parts=lots"))
    assert resp.status == 400


def test_slow_on_thread_class_leaves_the_loop_free(server):
    srv = server(app="slow", worker_class="thread", threads=2)
    done = {}

    def slow():
        with httpx.Client(timeout=5) as client:
            done["resp"] = client.get(srv.url + "/?ms=1000")

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.2)
    # While one pool thread sleeps, another request is answered at once.
    start = time.monotonic()
    with httpx.Client(timeout=5) as client:
        quick = client.get(srv.url + "/?ms=1")
    assert time.monotonic() - start < 0.5
    assert quick.text == "slept 1 ms\n"
    t.join(timeout=5)
    assert done["resp"].status_code == 200
    assert done["resp"].text == "slept 1000 ms\n"
