"""bench/ws_load, the load client of `bench/run.sh websocket`: its figures are only worth
reading if it checks every echo and fails loudly. Driven here against a reference server,
the websockets library (python3-websockets) on asyncio, which echoes, or corrupts an echo,
or changes its type, or closes a held connection; and against asgid serving the native hello
app, which has no WebSocket capability, so the Upgrade request is answered as plain HTTP.

Exit statuses, message counts and negotiation only: no timing is asserted.
"""

import select
import signal
import socket
import subprocess
import sys
import time

import pytest

from conftest import ASGID_BIN, SANITIZER_MARKERS

WS_LOAD = ASGID_BIN.parent / "bench" / "ws_load"

REFERENCE_SERVER = r'''
import asyncio, sys
import websockets

mode = sys.argv[1]

async def handler(ws, path=None):
    count = 0
    async for message in ws:
        count += 1
        if mode == "corrupt" and count == 3:
            message = message[:-1] + (b"x" if isinstance(message, bytes) else "x")
        elif mode == "wrong-type" and isinstance(message, str):
            message = message.encode()
        await ws.send(message)
        if mode == "close-held" and count == 1:
            await asyncio.sleep(0.5)
            await ws.close(1001, "going away")

async def main():
    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()

asyncio.run(main())
'''


@pytest.fixture
def reference(tmp_path):
    """A factory: reference(mode) starts the websockets server and returns (port, pid)."""
    script = tmp_path / "reference_server.py"
    script.write_text(REFERENCE_SERVER)
    procs = []

    def start(mode="echo"):
        proc = subprocess.Popen([sys.executable, str(script), mode], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        procs.append(proc)
        ready, _, _ = select.select([proc.stdout], [], [], 10)
        assert ready, "the reference server did not start within 10 s"
        line = proc.stdout.readline().strip()
        assert line.isdigit(), f"reference server: {line!r} {proc.stderr.read()!r}"
        return int(line), proc.pid

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=5)


def ws_load(*args, timeout=30):
    if not WS_LOAD.exists():
        pytest.fail(f"{WS_LOAD} not found: build the ws_load target")
    done = subprocess.run([str(WS_LOAD), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)
    check_sanitizers(done.stderr)
    return done


def check_sanitizers(stderr):
    """On the sanitizer build a report exits 1 too, like a failure the test expects."""
    assert not any(m in stderr for m in SANITIZER_MARKERS), stderr


def result(out):
    """The key=value pairs of ws_load's RESULT line."""
    line = [l for l in out.splitlines() if l.startswith("RESULT ")]
    assert len(line) == 1, out
    return dict(kv.split("=", 1) for kv in line[0].split()[1:])


@pytest.mark.parametrize("deflate", [False, True], ids=["plain", "deflate"])
@pytest.mark.parametrize("kind", ["binary", "text"])
def test_every_echo_is_counted_and_deflate_is_negotiated_when_offered(reference, kind, deflate):
    port, _ = reference()
    done = ws_load("--port", port, "--connections", 3, "--messages", 20, "--size", 1000,
                   "--type", kind, *(["--deflate"] if deflate else []))
    assert done.returncode == 0, done.stderr
    res = result(done.stdout)
    assert res["messages"] == "60" and res["type"] == kind
    assert res["deflate"] == ("1" if deflate else "0")
    if deflate:  # the library's answer to Chromium's offer, honoured by the client
        assert "client_max_window_bits=12" in done.stdout


def test_duration_mode_reads_the_server_cpu_time(reference):
    port, pid = reference()
    done = ws_load("--port", port, "--connections", 2, "--warmup", 0.2, "--duration", 0.5,
                   "--server-pids", pid)
    assert done.returncode == 0, done.stderr
    res = result(done.stdout)
    assert int(res["messages"]) > 0
    assert float(res["server_cpu_us_per_msg"]) >= 0  # -1 when it could not be read


def test_a_corrupted_echo_fails_the_run(reference):
    port, _ = reference("corrupt")
    done = ws_load("--port", port, "--messages", 5)
    assert done.returncode == 1
    assert "the echo of message 3 differs" in done.stderr
    assert "RESULT" not in done.stdout


def test_an_echo_of_another_type_fails_the_run(reference):
    port, _ = reference("wrong-type")
    done = ws_load("--port", port, "--messages", 2, "--type", "text")
    assert done.returncode == 1
    assert "the echo is binary, the message was text" in done.stderr


def test_a_plain_http_answer_to_the_handshake_is_exit_3(server):
    srv = server(app="hello")  # no WebSocket capability: the Upgrade request is plain HTTP
    done = ws_load("--port", srv.port, "--messages", 1)
    assert done.returncode == 3
    assert "answered the handshake with 'HTTP/1.1 200" in done.stderr


def test_hold_keeps_the_connections_until_term(reference):
    port, _ = reference()
    proc = subprocess.Popen([str(WS_LOAD), "--port", str(port), "--connections", "20",
                             "--hold", "20", "--deflate"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 15)
        assert ready and proc.stdout.readline() == "READY connections=20\n"
        time.sleep(0.3)
        assert proc.poll() is None  # still holding
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    check_sanitizers(err)
    assert proc.returncode == 0, err
    assert result(out)["deflate"] == "1"


def test_a_held_connection_closed_by_the_server_fails_the_run(reference):
    port, _ = reference("close-held")
    done = ws_load("--port", port, "--connections", 2, "--hold", 20)
    assert done.returncode == 1
    assert "READY connections=2" in done.stdout
    assert "the server closed the connection: code 1001, reason 'going away'" in done.stderr


def test_refused_connections_and_bad_usage():
    # A port bound but not listening, and kept so while the client tries it: refused.
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        done = ws_load("--port", port, "--messages", 1)
    assert done.returncode == 1
    assert f"connect to 127.0.0.1:{port}: connection refused" in done.stderr
    assert ws_load("--port", port, "--host", "10.0.0.1").returncode == 2  # loopback only
    assert ws_load("--port", port, "--messages", 1, "--hold", 5).returncode == 2  # one mode
    assert ws_load("--connections", 3).returncode == 2  # no port
