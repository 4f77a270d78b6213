"""Recycling workers by memory and age (max_worker_memory, max_worker_lifetime), as granian's
--workers-max-rss and --workers-lifetime: the master starts the replacement first and stops the
old worker only once the replacement is ready, so a client that keeps sending requests meets
no failure. The leaking app is the probe's /grow (memory it allocates, writes and keeps)."""

import re
import time

from master_util import LoadClient, get_pid, log_lines, wait_for
from rawhttp import request_bytes


def index_of(lines, *needles, after=-1):
    """The index of the first line after `after` that contains every needle, or None."""
    for i in range(after + 1, len(lines)):
        if all(n in lines[i] for n in needles):
            return i
    return None


def assert_replaced_first(log, old_pid, cause):
    """The master's lines about one replaced worker come in this order: the cause (a line
    naming it and `cause`), a new worker started and ready, the master stopping the old
    worker, and only then the old worker stopping. Returns the cause line."""
    lines = log.splitlines()
    c = index_of(lines, f"(pid {old_pid})", cause, "starting its replacement")
    assert c is not None, f"no line says why worker {old_pid} is replaced:\n{log}"
    s = index_of(lines, f"(pid {old_pid}): its replacement is ready", after=c)
    assert s is not None, f"the master never stopped worker {old_pid}:\n{log}"
    started = [re.search(r"started worker \d+ \(pid (\d+)", line) for line in lines[c + 1:s]]
    new_pids = [m.group(1) for m in started if m]
    assert any(index_of(lines[:s], f"(pid {p}) is ready", after=c) for p in new_pids), \
        f"worker {old_pid} was stopped before a replacement was ready:\n{log}"
    stopping = index_of(lines, f"[{old_pid}]", "stopping (graceful)")
    assert stopping is not None and stopping > s, \
        f"worker {old_pid} stopped before the master told it to:\n{log}"
    return lines[c]


def test_worker_above_max_worker_memory_is_replaced_by_a_ready_one_first(server):
    srv = server(workers=1, max_worker_memory="64m")
    (old,) = srv.wait_workers(1)
    assert get_pid(srv) == old
    load = LoadClient(srv.host, srv.port, threads=3).start()
    try:
        time.sleep(0.3)
        resp = srv.request(request_bytes("GET", "/grow?mb=96"))
        assert resp.status == 200 and resp.body == b"grew 96", resp
        grown_at = time.monotonic()
        (new,) = srv.wait_workers(1, differ_from={old}, timeout=10)
        assert wait_for(lambda: new in load.pids_since(grown_at), 5), load.summary()
    finally:
        load.stop()
    assert not load.failures, load.summary()
    assert load.ok > 20, load.summary()
    cause = assert_replaced_first(srv.log(), old, "above max_worker_memory 64 MiB")
    used = int(re.search(r"uses (\d+) MiB", cause).group(1))
    assert used >= 96, cause
    assert get_pid(srv) == new


def test_worker_below_max_worker_memory_is_kept(server):
    srv = server(workers=1, max_worker_memory="512m")
    (pid,) = srv.wait_workers(1)
    assert srv.request(request_bytes("GET", "/grow?mb=32")).status == 200
    time.sleep(2.5)  # two heartbeats or more
    assert srv.worker_pids() == {pid}
    assert "starting its replacement" not in srv.log()


def test_fresh_worker_already_above_max_worker_memory_is_kept_with_one_warning(server):
    # Every new worker would be as big: replacing it would only start the same again.
    srv = server(workers=1, max_worker_memory="1k")
    (pid,) = srv.wait_workers(1)
    assert wait_for(lambda: log_lines(srv.log(), f"(pid {pid}) used", "not replacing it"), 5), \
        srv.log()
    time.sleep(2.5)  # more heartbeats, all above the limit
    assert srv.worker_pids() == {pid}
    assert get_pid(srv) == pid
    log = srv.log()
    assert len(log_lines(log, "not replacing it")) == 1, log
    assert log_lines(log, "[WARNING]", "raise max_worker_memory"), log
    assert "starting its replacement" not in log


def test_workers_past_max_worker_lifetime_are_replaced_without_a_failed_request(server):
    srv = server(workers=2, max_worker_lifetime="2s")
    first = srv.wait_workers(2)
    load = LoadClient(srv.host, srv.port, threads=3).start()
    try:
        replaced = wait_for(lambda: not (srv.worker_pids() & first), 15)
        time.sleep(0.5)
    finally:
        load.stop()
    assert replaced, f"workers not replaced: {sorted(srv.worker_pids())}\n{srv.log()}"
    assert not load.failures, load.summary()
    log = srv.log()
    for pid in first:
        cause = assert_replaced_first(log, pid, "max_worker_lifetime 2.0 s")
        served, jitter = map(float, re.search(
            r"has served ([\d.]+) s, .* \+ ([\d.]+) s jitter", cause).groups())
        assert 0 <= jitter <= 0.2, cause  # up to 10 % of the lifetime
        assert served >= 2.0 + jitter - 0.1, cause  # each rounded to 0.1 s
    assert srv.proc.poll() is None
