"""Many clients at once on one worker: every response reaches the right client, under both
worker classes."""

import json
import threading

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
