"""What asgid logs about WebSockets: one access log line per session (the 101, after the
session ended), a line for a refused handshake, and an error log line naming the rule for
every handshake refusal and protocol error (at debug level), while the worker keeps serving.
The line formats are asgid's to choose; these tests look only for the facts. (uvicorn
0.17.6 at debug level names the UTF-8, key and version failures, not the others.)"""
import re
import time

import pytest

from wsframes import OP_BINARY, OP_CLOSE, OP_TEXT, HandshakeRefused, build_frame
from wsharness import (asgid_only, connect, pyserver, requires_python,  # noqa: F401
                       start_shared, stop_shared, ws_server)

pytestmark = [requires_python, asgid_only]


def test_access_log_has_one_line_per_session(ws_server, tmp_path):
    log = tmp_path / "access.log"
    srv = ws_server(access_log=str(log))
    with connect(srv, "/echo?x=1") as c:
        c.send_message("ab")
        c.send_message(b"xyz")
        assert c.recv_message() == (OP_TEXT, b"ab")
        assert c.recv_message() == (OP_BINARY, b"xyz")
        c.close_handshake(1000)
    with pytest.raises(HandshakeRefused):
        connect(srv, "/echo", version="8")
    assert srv.stop() == 0, srv.log()  # a graceful stop flushes the log
    lines = log.read_bytes().decode(errors="replace").splitlines()
    assert len(lines) == 2, lines
    assert '"GET /echo?x=1 HTTP/1.1" 101' in lines[0], lines
    assert '"GET /echo HTTP/1.1" 426' in lines[1], lines


# (what the client sends after a good handshake, or a bad handshake; a word the log line
# must contain, case-insensitive)
VIOLATIONS = {
    "bad-utf8": (build_frame(OP_TEXT, b"\xff"), r"utf-?8"),
    "unmasked": (build_frame(OP_TEXT, b"x", mask=False), r"mask"),
    "reserved-opcode": (build_frame(3, b"x"), r"opcode"),
    "rsv-bits": (build_frame(OP_TEXT, b"x", rsv=2), r"rsv|reserved bit"),
    "close-code": (build_frame(OP_CLOSE, (1005).to_bytes(2, "big")), r"close (code|status)"),
    "bad-key": ("key", r"sec-websocket-key"),
    "bad-version": ("version", r"sec-websocket-version"),
}


@pytest.fixture(scope="module")
def debug_server(tmp_path_factory):
    srv = start_shared(tmp_path_factory.mktemp("logs"), log_level="debug")
    yield srv
    stop_shared(srv)


@pytest.mark.parametrize("case", VIOLATIONS)
def test_protocol_errors_and_refusals_are_logged_naming_the_rule(request, debug_server, case):
    srv = debug_server
    request.node._asgid_servers = [srv]
    data, rule = VIOLATIONS[case]
    before = len(srv.log())
    if data == "key":
        with pytest.raises(HandshakeRefused):
            connect(srv, "/echo", key="short")
    elif data == "version":
        with pytest.raises(HandshakeRefused):
            connect(srv, "/echo", version="8")
    else:
        with connect(srv, "/echo") as c:
            c.send_raw(data)
            c.fail({1002, 1007})
    with connect(srv, "/echo") as c:  # the worker keeps serving
        c.send_message("ok")
        assert c.recv_message() == (OP_TEXT, b"ok")
        c.close_handshake(1000)
    deadline = time.monotonic() + 3
    while not re.search(rule, srv.log()[before:], re.IGNORECASE):
        assert time.monotonic() < deadline, \
            f"no log line names {rule!r}:\n{srv.log()[before:]}"
        time.sleep(0.05)
