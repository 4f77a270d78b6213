"""The master commands its workers over their channel (src/worker/channel_codec.h), never by
signals: strace, following every process, shows that no signal is sent to a worker and none is
delivered to one, while the workers reopen their logs (USR1 to the master) and then stop
gracefully (TERM to the master) with an in-flight request completing."""
import os
import re
import shutil
import signal
import subprocess
import threading
import time

import pytest

from conftest import ASGID_BIN, Server, child_pids
from rawhttp import RawConnection, request_bytes

pytestmark = pytest.mark.skipif(not shutil.which("strace"), reason="needs strace")

# Every way one process can signal another.
SIGNAL_CALLS = "kill,tkill,tgkill,rt_sigqueueinfo,rt_tgsigqueueinfo,pidfd_send_signal"


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return predicate()


def test_workers_stop_gracefully_without_any_signal_from_the_master(tmp_path):
    trace = tmp_path / "trace"
    error_log = tmp_path / "error.log"
    srv = Server(tmp_path, "probe", workers=2, graceful_timeout="10s", error_log=str(error_log))
    srv.log_path = error_log
    # LeakSanitizer cannot run under ptrace (it fails the exit); leaks are other tests' matter.
    srv.env["ASAN_OPTIONS"] = srv.env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
    srv.proc = subprocess.Popen(
        ["strace", "-f", "-qq", "-e", f"trace={SIGNAL_CALLS}", "-o", str(trace),
         str(ASGID_BIN), "-c", str(srv.ini_path)],
        stdout=open(srv.stdout_path, "wb"), stderr=open(tmp_path / "stderr", "wb"),
        stdin=subprocess.DEVNULL, env=srv.env, cwd=srv.workdir, start_new_session=True)
    try:
        srv.wait_ready(timeout=30)
        master = wait_for(lambda: next(iter(child_pids(srv.proc.pid)), None), 10)
        assert master, "strace started no asgid"
        workers = srv.wait_workers(2, master=master, timeout=20)

        # Rotation: the old file moves away; USR1 makes the master, and through their
        # channels the workers, open a new one.
        rotated = tmp_path / "error.log.1"
        error_log.rename(rotated)
        os.kill(master, signal.SIGUSR1)
        assert wait_for(error_log.exists, 5), "the master did not reopen its error log"
        result = {}

        def slow_request():
            with RawConnection(srv.host, srv.port, timeout=20) as conn:
                conn.send(request_bytes("GET", "/sleep?ms=1500"))
                result["resp"] = conn.read_response()

        t = threading.Thread(target=slow_request, daemon=True)
        t.start()
        time.sleep(0.5)  # the request is in flight
        os.kill(master, signal.SIGTERM)
        t.join(timeout=20)
        assert srv.proc.wait(timeout=20) == 0, srv.log()
    finally:
        srv.kill()

    assert result.get("resp") is not None and result["resp"].status == 200, \
        f"the in-flight request did not complete: {result}\n{srv.log()}"
    # Written after the reopen, so into the new file: the workers reopened it too.
    log = srv.log()
    for pid in workers:
        assert re.search(rf"\[{pid}\] \[INFO\] \[worker \d\] stopping \(graceful\)", log), \
            f"worker {pid} did not stop gracefully:\n{log}"
    lines = trace.read_text().splitlines()
    calls = [l for l in lines if re.match(r"\d+ +(" + SIGNAL_CALLS.replace(",", "|") + r")\(", l)]
    to_workers = [l for l in calls
                  if any(re.search(rf"\(\s*{pid}\b", l) for pid in workers)]
    assert not to_workers, "signals sent to workers:\n" + "\n".join(to_workers)
    # strace also prints each signal a traced process receives ("PID --- SIGTERM {...} ---").
    delivered = [l for l in lines if re.match(r"(\d+) +--- SIG", l)
                 and int(l.split()[0]) in workers]
    assert not delivered, "signals delivered to workers:\n" + "\n".join(delivered)
    # The trace did see the operator's signals reach the master: it traced the right processes.
    assert any(l.startswith(f"{master} ") and "SIGTERM" in l for l in lines), "\n".join(lines)
