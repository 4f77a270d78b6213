"""At max_connections (per worker), new connections wait in the kernel's listen queue, never
refused, and are served as soon as a connection closes, whoever closes it. With several
workers, a full worker leaves new connections to the others: it stops listening until it
has room again (docs/operations.md, "At max_connections")."""

import select
import time

from master_util import log_lines, wait_for
from rawhttp import request_bytes

PID = request_bytes("GET", "/pid")


def held(srv):
    """A keep-alive connection that has been served once (it holds a slot); with its pid."""
    conn = srv.raw(timeout=5)
    conn.send(PID)
    resp = conn.read_response()
    assert resp.status == 200, resp
    return conn, int(resp.body)


def waiting(srv, count):
    """count connections that connected (the kernel queued them) and sent a request."""
    conns = [srv.raw(timeout=5) for _ in range(count)]
    for conn in conns:
        conn.send(PID)
    return conns


def answered(conns, timeout):
    """The connections of conns with response bytes to read within timeout."""
    readable, _, _ = select.select([c.sock for c in conns], [], [], timeout)
    return [c for c in conns if c.sock in readable]


def pid_of(conn):
    resp = conn.read_response()
    assert resp.status == 200, resp
    return int(resp.body)


def test_waiting_connections_are_served_one_per_freed_slot(server):
    srv = server(max_connections=3, keepalive_timeout="30s")
    holders = [held(srv)[0] for _ in range(3)]
    queued = waiting(srv, 3)
    try:
        assert answered(queued, 0.5) == [], "served beyond max_connections"
        for freed in range(1, 4):
            holders.pop().close()
            assert wait_for(lambda: len(answered(queued, 0)) >= freed, 2), \
                f"{freed} slot(s) freed, {len(answered(queued, 0))} waiting client(s) served"
            time.sleep(0.3)
            assert len(answered(queued, 0)) == freed, "served beyond max_connections"
        for conn in queued:
            assert pid_of(conn) > 0
    finally:
        for conn in holders + queued:
            conn.close()


def test_a_slot_freed_by_the_keepalive_deadline_serves_a_waiting_connection(server):
    srv = server(max_connections=1, keepalive_timeout="1s")
    holder, _ = held(srv)  # idle from now on: the server closes it after 1 s
    (queued,) = waiting(srv, 1)
    try:
        assert answered([queued], 0.5) == []
        assert answered([queued], 3.0) == [queued], "not served after the idle one closed"
        assert pid_of(queued) > 0
    finally:
        holder.close()
        queued.close()


def test_a_full_worker_leaves_new_connections_to_the_other_workers(server):
    # Before a full worker stopped listening, libuv had already taken one connection off the
    # queue for it, which then waited for that worker while the other one was idle.
    srv = server(workers=2, max_connections=1, keepalive_timeout="30s")
    assert wait_for(lambda: len(log_lines(srv.log(), "is ready")) >= 2, 10), srv.log()
    for round_ in range(6):
        first, first_pid = held(srv)
        (second,) = waiting(srv, 1)
        assert answered([second], 2.0) == [second], \
            f"round {round_}: worker {first_pid} is full and the other one did not serve"
        second_pid = pid_of(second)
        assert second_pid != first_pid
        # Both full: a third waits, and is served by whichever worker a slot frees in.
        (third,) = waiting(srv, 1)
        assert answered([third], 0.5) == [], "served beyond max_connections"
        freed, freed_pid = (first, first_pid) if round_ % 2 else (second, second_pid)
        freed.close()
        assert answered([third], 2.0) == [third], \
            f"round {round_}: a slot freed in worker {freed_pid}, the third still waits"
        assert pid_of(third) == freed_pid
        for conn in (first, second, third):
            conn.close()
        time.sleep(0.2)  # the workers see the closes and have room again
