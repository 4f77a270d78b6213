"""RFC 6455 / RFC 7692 conformance with raw frames (wsframes.py), following the case list of
the Autobahn|Testsuite as a checklist: 1 framing, 2 ping/pong, 3 RSV bits, 4 opcodes,
5 fragmentation, 6 UTF-8, 7 close, 9 limits, 12/13 permessage-deflate; then masking and the
opening handshake.

Every case is strict: UTF-8 fails fast per fragment and inside a frame, protocol errors close
with the exact code, and the server closes TCP after the close handshake. The echo endpoint
is python_apps/ws_app.py's /echo. Most cases share one server (`echo`), which also proves
that the worker keeps serving after each protocol error.

Checked against references (ASGID_WS_REFERENCE, see wsharness.py); where one is known to
differ, the test's docstring says so:
- python websockets 10.4 passes every case but three (the 64-bit length, fail-fast inside a
  frame, the version refusal);
- uvicorn 0.17.6 --ws websockets fails those three, and five handshake cases of its own
  (frames sent with the request are lost; Upgrade requests that are not WebSocket
  handshakes are refused instead of served as HTTP);
- the wsproto-based servers (hypercorn 0.13.2, uvicorn --ws wsproto) fail about 80 cases:
  on every protocol error they close TCP without a close frame, and more (per test below).
"""
import functools
import json
import random
import time

import pytest

from conftest import app_path
from rawhttp import request_bytes
from wsframes import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, WsClient,
                      build_frame, close_payload, compress_once, open_socket, read_http_head,
                      upgrade_request)
from wsharness import (ECHO_APPS, REFERENCE, WS_APP, asgi_app_only, asgid_only, connect,
                       pyserver, requires_python, start_shared, stop_shared,  # noqa: F401
                       worker_pid, ws_server)

pytestmark = requires_python

MIB = 1024 * 1024
# The shared server's limits: above every message these cases send, below the bomb.
ECHO_MESSAGE_LIMIT = 4 * MIB


@pytest.fixture(scope="module", params=ECHO_APPS)
def echo_server(request, tmp_path_factory):
    """One server for the module's echo cases. Its frame limit is set for asgid only (the
    references have none)."""
    app = WS_APP if request.param == "python" else app_path("ws_echo")
    settings = {"ws_max_message_size": ECHO_MESSAGE_LIMIT}
    if REFERENCE is None:
        settings["ws_max_frame_size"] = ECHO_MESSAGE_LIMIT
    srv = start_shared(tmp_path_factory.mktemp("echo"), app=app, **settings)
    srv.echo_app = request.param
    yield srv
    stop_shared(srv)


@pytest.fixture
def echo(request, echo_server):
    """The shared server (any echo app), its log attached to a failing test's report."""
    request.node._asgid_servers = [echo_server]
    return echo_server


@pytest.fixture
def echo_python(echo):
    """The shared server, for cases that need ws_app.py's other routes."""
    if echo.echo_app != "python" or REFERENCE == "websockets":
        pytest.skip("needs the routes of python_apps/ws_app.py")
    return echo


def ws(srv, path="/echo", **kwargs):
    return connect(srv, path, **kwargs)


def payload_of(length, text):
    """Exactly `length` bytes: UTF-8 text with 1- to 4-byte characters, or binary noise."""
    if text:
        unit = "aé€😀".encode()  # 10 bytes
        return unit * (length // len(unit)) + b"x" * (length % len(unit))
    noise = bytes(random.Random(length).getrandbits(8) for _ in range(4096))
    return (noise * (length // 4096 + 1))[:length]


# --- 1. framing ------------------------------------------------------------------------------

@pytest.mark.parametrize("length", [0, 125, 126, 127, 65535, 65536, MIB])
@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY], ids=["text", "binary"])
def test_framing_lengths_echo(echo, opcode, length):
    """Autobahn 1.1/1.2: a message of each length edge (7-bit, 16-bit, 64-bit forms) comes
    back whole, with its type."""
    data = payload_of(length, opcode == OP_TEXT)
    assert len(data) == length
    with ws(echo) as c:
        c.send_frame(opcode, data)
        assert c.recv_message() == (opcode, data)
        c.close_handshake(1000)


def test_framing_chopped_and_pipelined(echo):
    """Autobahn 1.1.7/1.2.8-like: a frame header sent one byte per TCP write, a 64 KiB frame in
    many writes, and three frames in one write all come back in order."""
    with ws(echo) as c:
        c.send_frame(OP_TEXT, b"x" * 200, chop=1, mask_key=b"\x01\x02\x03\x04")
        assert c.recv_message() == (OP_TEXT, b"x" * 200)
        big = payload_of(65536, False)
        c.send_raw(build_frame(OP_BINARY, big), chop=4099, pause=0.001)
        assert c.recv_message() == (OP_BINARY, big)
        c.send_raw(build_frame(OP_TEXT, b"one") + build_frame(OP_BINARY, b"two")
                   + build_frame(OP_TEXT, b""))
        assert [c.recv_message() for _ in range(3)] == [
            (OP_TEXT, b"one"), (OP_BINARY, b"two"), (OP_TEXT, b"")]
        c.close_handshake(1000)


def test_framing_64bit_length_with_top_bit_set_is_a_protocol_error(echo):
    """RFC 6455 §5.2: the most significant bit of a 64-bit length must be 0 => 1002.
    websockets 10.4 answers 1009 (it checks the size limit first)."""
    with ws(echo) as c:
        c.send_raw(build_frame(OP_BINARY, b"", length_form=64, length=1 << 63))
        c.fail(1002)


# --- 2. ping / pong --------------------------------------------------------------------------

@pytest.mark.parametrize("payload", [b"", b"hello", bytes(range(125))],
                         ids=["empty", "text", "125-binary"])
def test_ping_is_answered_with_the_same_payload(echo, payload):
    """Autobahn 2.1-2.4: a pong echoes the ping's payload, up to the 125-byte maximum."""
    with ws(echo) as c:
        assert c.ping(payload) == payload
        c.close_handshake(1000)


def test_ping_of_126_bytes_is_a_protocol_error(echo):
    """Autobahn 2.5: control frames carry at most 125 bytes => 1002."""
    with ws(echo) as c:
        c.send_frame(OP_PING, b"x" * 126)
        c.fail(1002)


def test_ping_chopped_and_unsolicited_pong_ignored(echo):
    """Autobahn 2.6/2.7/2.8: a ping sent byte by byte is answered; an unsolicited pong (with or
    without payload) is ignored, and the connection keeps echoing."""
    with ws(echo) as c:
        c.send_frame(OP_PING, b"chopped", chop=1)
        assert c.recv_frame().__dict__ == {"fin": True, "rsv": 0, "opcode": OP_PONG,
                                           "payload": b"chopped", "masked": False}
        c.send_frame(OP_PONG, b"")
        c.send_frame(OP_PONG, b"unsolicited")
        c.send_message("still here")
        assert c.recv_message() == (OP_TEXT, b"still here")
        c.close_handshake(1000)


def test_fragmented_ping_is_a_protocol_error(echo):
    """Autobahn 5.1: control frames are never fragmented => 1002."""
    with ws(echo) as c:
        c.send_frame(OP_PING, b"frag", fin=False)
        c.fail(1002)


# --- 3. RSV bits -----------------------------------------------------------------------------

@pytest.mark.parametrize("rsv,opcode", [(1, OP_TEXT), (2, OP_TEXT), (3, OP_TEXT), (4, OP_TEXT),
                                        (5, OP_BINARY), (6, OP_PING), (7, OP_CLOSE)])
def test_rsv_bits_without_extension_fail(echo, rsv, opcode):
    """Autobahn 3.1-3.7: an RSV bit no extension negotiated => 1002. A message before the bad
    frame is still echoed (3.2)."""
    with ws(echo) as c:  # no extension offered
        c.send_message("before")
        assert c.recv_message() == (OP_TEXT, b"before")
        payload = close_payload(1000) if opcode == OP_CLOSE else b"abc"
        c.send_frame(opcode, payload, rsv=rsv)
        c.fail(1002)


# --- 4. opcodes ------------------------------------------------------------------------------

@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
def test_reserved_opcode_fails(echo, opcode):
    """Autobahn 4.1.x/4.2.x: reserved opcodes (3-7 data, 0xB-0xF control) => 1002; a message
    sent before is echoed first."""
    with ws(echo) as c:
        c.send_message("before")
        assert c.recv_message() == (OP_TEXT, b"before")
        c.send_frame(opcode, b"reserved")
        c.fail(1002)


# --- 5. fragmentation ------------------------------------------------------------------------

def test_fragmented_messages_with_control_frames_between(echo):
    """Autobahn 5.3-5.9/5.15-like: text in 2 fragments, binary in 20 one-byte fragments, empty
    fragments, and pings (answered at once) between fragments."""
    with ws(echo) as c:
        c.send_frame(OP_TEXT, b"frag", fin=False)
        c.send_frame(OP_CONT, b"ment")
        assert c.recv_message() == (OP_TEXT, b"fragment")
        data = bytes(range(20))
        for i in range(20):
            c.send_frame(OP_BINARY if i == 0 else OP_CONT, data[i:i + 1], fin=i == 19)
        assert c.recv_message() == (OP_BINARY, data)
        c.send_frame(OP_TEXT, b"", fin=False)
        c.send_frame(OP_CONT, b"", fin=False)
        c.send_frame(OP_CONT, b"")
        assert c.recv_message() == (OP_TEXT, b"")
        c.send_frame(OP_TEXT, b"a", fin=False)
        c.send_frame(OP_PING, b"p1")
        f = c.recv_frame()
        assert (f.opcode, f.payload) == (OP_PONG, b"p1")  # answered before the message ends
        c.send_frame(OP_CONT, b"b", fin=False)
        c.send_frame(OP_PONG, b"unsolicited")
        c.send_frame(OP_PING, b"p2", chop=1)
        f = c.recv_frame()
        assert (f.opcode, f.payload) == (OP_PONG, b"p2")
        c.send_frame(OP_CONT, b"c")
        assert c.recv_message() == (OP_TEXT, b"abc")
        c.close_handshake(1000)


@pytest.mark.parametrize("fin", [True, False], ids=["fin", "nofin"])
def test_continuation_without_a_message_fails(echo, fin):
    """Autobahn 5.9-5.14: a continuation frame with no message in progress => 1002."""
    with ws(echo) as c:
        c.send_frame(OP_CONT, b"orphan", fin=fin)
        c.fail(1002)


@pytest.mark.parametrize("second", [OP_TEXT, OP_BINARY], ids=["text", "binary"])
def test_new_message_inside_a_fragmented_one_fails(echo, second):
    """Autobahn 5.18/5.20-like: a new data frame while a fragmented message is open => 1002."""
    with ws(echo) as c:
        c.send_frame(OP_TEXT, b"first", fin=False)
        c.send_frame(second, b"second")
        c.fail(1002)


def test_close_between_fragments_ends_the_connection(echo):
    """A close frame between fragments is a control frame like any other: the server answers
    the close; the unfinished message is never echoed."""
    with ws(echo) as c:
        c.send_frame(OP_TEXT, b"never finished", fin=False)
        c.close_handshake(1000)


# --- 6. UTF-8 --------------------------------------------------------------------------------

VALID_UTF8 = [
    "Hello-µ@ßöäüàá-UTF-8!!",
    "κόσμε",
    "\u0000\u007f\u0080\u07ff\u0800\uffff\U00010000\U0010ffff",
    "\ue000\ufffd\ufeff\ufffe",
    "😀 mixed 中文 ✓",
]


@pytest.mark.parametrize("text", VALID_UTF8, ids=range(len(VALID_UTF8)))
def test_valid_utf8_split_at_every_byte_across_fragments(echo, text):
    """Autobahn 6.2/6.5/6.6/6.7-like: valid text, also split inside a code point at every byte
    offset into two fragments, is echoed unchanged."""
    data = text.encode()
    with ws(echo) as c:
        c.send_message(text)
        assert c.recv_message() == (OP_TEXT, data)
        for cut in range(1, len(data)):
            c.send_frame(OP_TEXT, data[:cut], fin=False)
            c.send_frame(OP_CONT, data[cut:])
            assert c.recv_message() == (OP_TEXT, data), cut
        c.close_handshake(1000)


def test_valid_utf8_split_across_tcp_writes(echo):
    """Autobahn 6.2.3/6.2.4-like: one text frame sent one byte per write, code points cut
    between writes, and one-byte fragments of a 4-byte character."""
    data = "κόσμε 😀".encode()
    with ws(echo) as c:
        c.send_frame(OP_TEXT, data, chop=1)
        assert c.recv_message() == (OP_TEXT, data)
        smile = "😀".encode()
        for i, b in enumerate(smile):
            c.send_frame(OP_TEXT if i == 0 else OP_CONT, bytes([b]), fin=i == len(smile) - 1)
        assert c.recv_message() == (OP_TEXT, smile)
        c.close_handshake(1000)


INVALID_UTF8 = [
    b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",  # surrogate U+D800
    b"\xed\xbf\xbf",             # surrogate U+DFFF
    b"\xed\xa0\x80\xed\xb0\x80",  # CESU-8 surrogate pair
    b"\xc0\xaf", b"\xc1\xbf",     # overlong 2-byte
    b"\xe0\x80\xaf",             # overlong 3-byte
    b"\xf0\x80\x80\xaf",         # overlong 4-byte
    b"\xf4\x90\x80\x80",         # above U+10FFFF
    b"\xf5\x80\x80\x80", b"\xf8\x88\x80\x80\x80", b"\xfe", b"\xff",
    b"\x80", b"\xbf", b"a\x80b",  # lone continuation bytes
    b"\xce", b"\xe1\xbd", b"\xf0\x9f\x98",  # truncated at the end of the message
    b"\xc2\x41",                 # lead byte followed by ASCII
]


@pytest.mark.parametrize("data", INVALID_UTF8, ids=[d.hex() for d in INVALID_UTF8])
def test_invalid_utf8_text_fails_with_1007(echo, data):
    """Autobahn 6.3-6.21: invalid UTF-8 in a text message => 1007, whole or in fragments."""
    with ws(echo) as c:
        c.send_frame(OP_TEXT, data)
        c.fail(1007)
    with ws(echo) as c:
        c.send_frame(OP_TEXT, data[:1], fin=False)
        if len(data) > 1:
            c.send_frame(OP_CONT, data[1:], fin=False)
        c.send_frame(OP_CONT, b"")
        c.fail(1007)


def test_utf8_fails_fast_after_the_first_bad_fragment(echo):
    """Autobahn 6.4.1/6.4.2: the server closes 1007 right after a fragment that makes the text
    invalid, while the message is still unfinished (the last fragment is never sent).
    websockets 10.4 is strict here (it decodes per fragment)."""
    with ws(echo) as c:
        c.send_frame(OP_TEXT, "κόσμε".encode(), fin=False)
        c.send_frame(OP_CONT, b"\xf4\x90\x80\x80", fin=False)  # U+110000: invalid at once
        c.fail(1007, timeout=3)


def test_utf8_fails_fast_inside_an_unfinished_frame(echo):
    """Autobahn 6.4.3/6.4.4: one text frame whose first part (sent alone) is already invalid:
    the server closes 1007 before the rest of the frame arrives (it never does).
    websockets 10.4 and Node ws are NON-STRICT here (they validate whole frames): they wait
    for the rest of the frame, and this test times out on them."""
    data = "κόσμε".encode() + b"\xf4\x90\x80\x80" + b"edited" * 100
    with ws(echo) as c:
        frame = build_frame(OP_TEXT, data)
        c.send_raw(frame[:2 + 2 + 4 + len("κόσμε".encode()) + 4])  # header, mask, bad prefix
        c.fail(1007, timeout=3)


# --- 7. close --------------------------------------------------------------------------------

VALID_CLOSE_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                     3000, 3999, 4000, 4001, 4999]
INVALID_CLOSE_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]


@pytest.mark.parametrize("code", VALID_CLOSE_CODES)
def test_close_with_valid_code_is_answered(echo, code):
    """Autobahn 7.7.x: a close with a valid code gets a close back (the same code, or 1000),
    then the server closes TCP. wsproto 1.2 refuses 1014 (registered by IANA since)."""
    with ws(echo) as c:
        c.close_handshake(code, b"reason")


@pytest.mark.parametrize("code", INVALID_CLOSE_CODES)
def test_close_with_invalid_code_fails(echo, code):
    """Autobahn 7.9.x: codes never valid on the wire => 1002."""
    with ws(echo) as c:
        c.send_close(code)
        c.fail(1002)


def test_close_without_payload_and_with_max_reason(echo):
    """Autobahn 7.3.1/7.3.5: an empty close is answered (empty or 1000, never 1005); a reason of
    123 bytes (the maximum) is fine."""
    with ws(echo) as c:
        c.close_handshake(None, expect={None, 1000})
    with ws(echo) as c:
        c.close_handshake(1000, b"r" * 123)


@pytest.mark.parametrize("payload,code", [(b"\x03", 1002), (b"\x03\xe8" + b"r" * 124, 1002),
                                          (b"\x03\xe8\xce\xba\xe1\xbd\xb9\xed\xa0\x80", 1007)],
                         ids=["length-1", "length-126", "bad-utf8-reason"])
def test_malformed_close_fails(echo, payload, code):
    """Autobahn 7.3.2/7.3.6/7.5.1: a 1-byte close payload and a 126-byte one => 1002; a reason
    that is not UTF-8 => 1007."""
    with ws(echo) as c:
        c.send_frame(OP_CLOSE, payload)
        c.fail(code)


def test_frames_after_close_are_ignored(echo):
    """Autobahn 7.1.2-7.1.5: after the client's close, a text frame, a ping and a second close
    get no echo, no pong and no second close; the server answers once and closes TCP."""
    with ws(echo) as c:
        c.send_raw(build_frame(OP_CLOSE, close_payload(1000)) + build_frame(OP_TEXT, b"late")
                   + build_frame(OP_PING, b"late") + build_frame(OP_CLOSE, close_payload(1001)))
        c.expect_close({1000})
        c.assert_tcp_closed()


@asgi_app_only
@pytest.mark.parametrize("query,code,reason", [("code=4001&reason=bye", 4001, b"bye"),
                                               ("code=1000", 1000, b""),
                                               ("", 1000, b"")])
def test_server_initiated_close_then_tcp_close(echo_python, query, code, reason):
    """The app's websocket.close reaches the client with its code and reason (none: 1000);
    after the client's answering close, the server closes TCP."""
    with ws(echo_python, f"/close?{query}") as c:
        assert c.expect_close(code) == (code, reason)
        c.send_close(code)
        c.assert_tcp_closed()


@asgid_only
def test_server_closes_tcp_when_the_client_never_answers_the_close(ws_server):
    """RFC 6455 §7.1.1: after its close frame the server waits for the client's close for at
    most ws_close_timeout, then closes TCP itself."""
    srv = ws_server(ws_close_timeout="300ms")
    with ws(srv, "/close?code=1001") as c:
        c.expect_close(1001)
        start = time.monotonic()
        c.assert_tcp_closed(timeout=5)  # no answering close sent
        assert time.monotonic() - start < 4


# --- 9. limits -------------------------------------------------------------------------------

@asgid_only
def test_frame_over_ws_max_frame_size_fails_before_its_payload(ws_server):
    """A frame header announcing more than ws_max_frame_size => 1009 at once: the server does
    not wait for (or buffer) the payload. A frame of exactly the limit is fine."""
    srv = ws_server(ws_max_frame_size=65536, ws_max_message_size=MIB)
    with ws(srv) as c:
        c.send_frame(OP_BINARY, b"y" * 65536)
        assert c.recv_message() == (OP_BINARY, b"y" * 65536)
        c.send_raw(build_frame(OP_BINARY, b"", length=65537))  # the header only
        c.fail(1009, timeout=3)
    with ws(srv) as c:
        c.send_raw(build_frame(OP_TEXT, b"", length=1 << 40))
        c.fail(1009, timeout=3)


def test_message_over_ws_max_message_size_fails(ws_server):
    """A message, whole or in fragments each under the limit, larger than ws_max_message_size
    => 1009; exactly the limit is echoed. uvicorn --ws wsproto has no limit (it hangs
    here)."""
    srv = ws_server(ws_max_message_size=65536)
    with ws(srv) as c:
        c.send_message(b"z" * 65536)
        assert c.recv_message() == (OP_BINARY, b"z" * 65536)
        c.send_message(b"z" * 65537)
        c.fail(1009)
    with ws(srv) as c:
        for i in range(5):
            c.send_frame(OP_TEXT if i == 0 else OP_CONT, b"t" * 16384, fin=False)
        c.fail(1009)


@asgid_only
def test_message_in_more_than_ws_max_fragments_fails(ws_server):
    """A message in more frames than ws_max_fragments => 1009 (many tiny frames cost the
    server per frame); exactly the limit is fine."""
    srv = ws_server(ws_max_fragments=4)
    with ws(srv) as c:
        for i in range(4):
            c.send_frame(OP_TEXT if i == 0 else OP_CONT, b"f", fin=i == 3)
        assert c.recv_message() == (OP_TEXT, b"ffff")
        for i in range(5):
            c.send_frame(OP_TEXT if i == 0 else OP_CONT, b"f", fin=False)
        c.fail(1009)


# --- 12/13. permessage-deflate ---------------------------------------------------------------

DEFLATE = "permessage-deflate"


def test_deflate_negotiation_answers(echo):
    """RFC 7692 §7.1: the server accepts a plain offer, and answers each parameter of the
    client's: server_no_context_takeover is echoed; server_max_window_bits=N gets N or less;
    client_max_window_bits without a value may get a value 8..15; an offer with an unknown
    parameter is declined (no extension, still 101); an unknown extension is ignored.
    wsproto 1.2 accepts the offer with an unknown parameter."""
    with ws(echo, extensions=DEFLATE) as c:
        assert c.deflate_params is not None
        for name, value in c.deflate_params.items():
            assert name in ("server_no_context_takeover", "client_no_context_takeover",
                            "server_max_window_bits", "client_max_window_bits"), name
            if name.endswith("bits"):
                assert 8 <= int(value) <= 15
        assert "client_max_window_bits" not in c.deflate_params  # not offered: not answered
    with ws(echo, extensions=f"{DEFLATE}; server_no_context_takeover") as c:
        assert "server_no_context_takeover" in c.deflate_params
    with ws(echo, extensions=f"{DEFLATE}; server_max_window_bits=10") as c:
        assert 8 <= int(c.deflate_params["server_max_window_bits"]) <= 10
    with ws(echo, extensions=f"{DEFLATE}; client_max_window_bits") as c:
        bits = c.deflate_params.get("client_max_window_bits", 15)
        assert 8 <= int(bits) <= 15
    with ws(echo, extensions=f"{DEFLATE}; unknown_param=1") as c:
        assert c.deflate_params is None
    with ws(echo, extensions="x-webkit-deflate-frame") as c:
        assert c.deflate_params is None
    with ws(echo, extensions=f"{DEFLATE}; server_max_window_bits=7, {DEFLATE}") as c:
        assert c.deflate_params is not None  # the first offer is invalid, the second fits


def compressible(n):
    words = [b"alpha", b"beta", b"gamma", b"delta", b"epsilon"]
    rng = random.Random(n)
    out = b" ".join(rng.choice(words) for _ in range(n // 5 + 1))
    return out[:n]


@pytest.mark.parametrize("offer", [DEFLATE, f"{DEFLATE}; client_no_context_takeover",
                                   f"{DEFLATE}; server_no_context_takeover",
                                   f"{DEFLATE}; client_max_window_bits=9",
                                   f"{DEFLATE}; server_max_window_bits=9"])
def test_deflate_messages_both_ways(echo, offer):
    """Autobahn 12.x/13.x-like: compressed messages (0 B to 256 KiB, text and binary, repeated
    so context takeover matters) are inflated by the server and echoed; the echo of a
    compressible 64 KiB message is compressed (RSV1) and inflates with the window the
    server announced, and with a fresh context when server_no_context_takeover was agreed."""
    with ws(echo, extensions=offer) as c:
        assert c.deflate is not None
        for size in (0, 1, 100, 65536, 256 * 1024):
            for text in (True, False):
                data = compressible(size)
                for _ in range(2):
                    c.send_message(data.decode() if text else data, compress=True)
                    assert c.recv_message() == (OP_TEXT if text else OP_BINARY, data), size
                    if size >= 65536:
                        assert c.last_rsv == 4, "a compressible message was sent uncompressed"
        c.close_handshake(1000)


def test_deflate_fragmented_and_mixed_with_uncompressed(echo):
    """A compressed message in 3 fragments (RSV1 on the first only), with a ping between them;
    uncompressed messages on the same connection still work. wsproto 1.2 corrupts this
    message (a ping between compressed fragments; without the ping it is fine)."""
    with ws(echo, extensions=DEFLATE) as c:
        data = compressible(100000)
        comp = c.deflate.compress(data)
        third = len(comp) // 3
        c.send_frame(OP_BINARY, comp[:third], rsv=4, fin=False)
        c.send_frame(OP_PING, b"mid")
        c.send_frame(OP_CONT, comp[third:2 * third], fin=False)
        c.send_frame(OP_CONT, comp[2 * third:])
        f = c.recv_frame()
        assert (f.opcode, f.payload) == (OP_PONG, b"mid")
        assert c.recv_message() == (OP_BINARY, data)
        c.send_message("plain")
        assert c.recv_message() == (OP_TEXT, b"plain")
        c.close_handshake(1000)


@pytest.mark.parametrize("case", ["rsv1-on-continuation", "rsv1-on-ping", "rsv2"])
def test_deflate_bad_rsv_use_fails(echo, case):
    """With deflate negotiated, RSV1 is allowed only on the first frame of a data message;
    RSV2/RSV3 are still unassigned => 1002."""
    with ws(echo, extensions=DEFLATE) as c:
        if case == "rsv1-on-continuation":
            c.send_frame(OP_TEXT, b"a", fin=False)
            c.send_frame(OP_CONT, b"b", rsv=4)
        elif case == "rsv1-on-ping":
            c.send_frame(OP_PING, b"p", rsv=4)
        else:
            c.send_frame(OP_TEXT, b"a", rsv=2)
        c.fail(1002)


def test_deflate_corrupt_data_and_bad_utf8_after_inflate_fail(echo):
    """Data that does not inflate fails the connection (1002 or 1007: RFC 7692 names no code;
    websockets 10.4 uses 1002); compressed text that inflates to invalid UTF-8 => 1007."""
    with ws(echo, extensions=DEFLATE) as c:
        c.send_frame(OP_BINARY, b"\xff\xff\xff\xff\xff", rsv=4)
        c.fail({1002, 1007})
    with ws(echo, extensions=DEFLATE) as c:
        c.send_frame(OP_TEXT, c.deflate.compress(b"ok \xed\xa0\x80 not"), rsv=4)
        c.fail(1007)


def vm_hwm_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@functools.lru_cache(maxsize=1)
def zero_bomb():
    return compress_once(bytes(200 * MIB))


@pytest.mark.parametrize("fragmented", [False, True], ids=["one-frame", "fragments"])
def test_deflate_bomb_fails_with_1009_without_growing(ws_server, fragmented):
    """A decompression bomb: 200 MiB of zeros compressed to ~200 KiB, under every frame limit,
    with ws_max_message_size = 1 MiB => 1009, checked while inflating: the serving process's
    peak memory grows by far less than the inflated size, and it keeps serving. Under
    hypercorn 0.13 the peak grew by 257 MiB; uvicorn --ws wsproto never answers."""
    frame_limit = {"ws_max_frame_size": MIB} if REFERENCE is None else {}  # the bomb fits
    srv = ws_server(ws_max_message_size=MIB, **frame_limit)
    pid = worker_pid(srv)
    with ws(srv, extensions=DEFLATE) as c:  # warm up: the first deflate stream allocates
        c.send_message(compressible(1000), compress=True)
        c.recv_message()
        c.close_handshake(1000)
    before = vm_hwm_kib(pid)
    bomb = zero_bomb()
    assert len(bomb) < 400 * 1024
    with ws(srv, extensions=DEFLATE) as c:
        if fragmented:
            step = len(bomb) // 4 + 1
            pieces = [bomb[i:i + step] for i in range(0, len(bomb), step)]
            for i, p in enumerate(pieces):
                c.send_frame(OP_BINARY if i == 0 else OP_CONT, p, rsv=4 if i == 0 else 0,
                             fin=i == len(pieces) - 1)
        else:
            c.send_frame(OP_BINARY, bomb, rsv=4)
        c.fail(1009, timeout=10)
    grown = vm_hwm_kib(pid) - before
    assert grown < 32 * 1024, f"peak memory grew by {grown} KiB for a 1 MiB message limit"
    with ws(srv, extensions=DEFLATE) as c:
        c.send_message("after", compress=True)
        assert c.recv_message() == (OP_TEXT, b"after")
        c.close_handshake(1000)


@asgid_only
def test_deflate_off_declines_the_offer(ws_server):
    """ws_per_message_deflate = off: the offer is declined (101 without the extension), and a
    frame with RSV1 is then a protocol error."""
    srv = ws_server(ws_per_message_deflate="off")
    with ws(srv, extensions=DEFLATE) as c:
        assert c.deflate_params is None
        c.send_frame(OP_TEXT, compress_once(b"hello"), rsv=4)
        c.fail(1002)


# --- masking ---------------------------------------------------------------------------------

@pytest.mark.parametrize("opcode", [OP_TEXT, OP_PING, OP_CLOSE])
def test_unmasked_client_frame_fails(echo, opcode):
    """RFC 6455 §5.1: every client frame is masked; an unmasked one => 1002."""
    with ws(echo) as c:
        payload = close_payload(1000) if opcode == OP_CLOSE else b"naked"
        c.send_frame(opcode, payload, mask=False)
        c.fail(1002)


# --- opening handshake -----------------------------------------------------------------------

def handshake(srv, data, timeout=5):
    """Sends raw request bytes; returns (status, headers, body-and-rest, socket)."""
    sock = open_socket(srv.host, srv.port, timeout)
    sock.sendall(data)
    status, headers, rest = read_http_head(sock, timeout)
    return status, headers, rest, sock


def test_handshake_wrong_version_gets_426(echo):
    """RFC 6455 §4.4: Sec-WebSocket-Version other than 13 => 426 with Sec-WebSocket-Version: 13.
    websockets 10.4 and uvicorn 0.17.6 answer 400."""
    for version in ("8", "14", "abc"):
        status, headers, _, sock = handshake(echo, upgrade_request("/echo", version=version))
        sock.close()
        assert status == 426, (version, status)
        assert ("sec-websocket-version", "13") in headers, headers


@pytest.mark.parametrize("key", ["", "abc", "AAAAAAAAAAAAAAAAAAAAAA==AAAA",
                                 "AAAAAAAAAAAAAAAAAAAA",  # 15 bytes
                                 "AAAAAAAAAAAAAAAAAAAAAAAA"],  # 18 bytes
                         ids=["empty", "short", "junk", "15-bytes", "18-bytes"])
def test_handshake_bad_key_gets_400(echo, key):
    """RFC 6455 §4.2.1: Sec-WebSocket-Key must be base64 of 16 bytes => else 400, and the
    connection still serves plain HTTP or closes; the worker keeps serving. wsproto 1.2
    accepts any key."""
    status, _, _, sock = handshake(echo, upgrade_request("/echo", key=key))
    sock.close()
    assert status == 400
    with ws(echo) as c:
        c.close_handshake(1000)


@pytest.mark.parametrize("headers", [
    [("Connection", "keep-alive, Upgrade")],
    [("Connection", "upgrade"), ("Upgrade", "WebSocket")],
    [("Connection", "UPGRADE,keep-alive"), ("Upgrade", "websocket")],
    [("Connection", "keep-alive"), ("Connection", "Upgrade")],
], ids=["list", "case", "list-no-space", "two-lines"])
def test_handshake_tokens_in_lists_and_any_case(echo, headers):
    """RFC 6455 §4.2.1 / RFC 9110 §7.8: Upgrade and Connection tokens match case-insensitively,
    inside comma lists and across header lines."""
    with ws(echo, headers=headers) as c:
        c.send_message("ok")
        assert c.recv_message() == (OP_TEXT, b"ok")
        c.close_handshake(1000)


@asgi_app_only
def test_handshake_subprotocols_split_across_lines_and_choice_echoed(echo_python):
    """Sec-WebSocket-Protocol lines are split on commas and joined across lines, trimmed, in
    order; the app's choice (the last offered) comes back in the 101. hypercorn 0.13 keeps
    only the last line."""
    data = upgrade_request("/subprotocol", headers=[("Sec-WebSocket-Protocol", "chat, superchat"),
                                                    ("Sec-WebSocket-Protocol", " v2.bokeh ,x")])
    status, headers, rest, sock = handshake(echo_python, data)
    with WsClient(sock, status, headers, rest, 5) as c:
        assert status == 101
        assert c.subprotocol == "x"
        assert json.loads(c.recv_text()) == ["chat", "superchat", "v2.bokeh", "x"]
        c.close_handshake(1000)


def test_handshake_frames_in_the_same_write_are_not_lost(echo):
    """Frames sent in the same TCP write as the upgrade request are the connection's first
    frames: they are echoed after the 101, in order. uvicorn 0.17.6 (both backends) loses
    them."""
    first = (build_frame(OP_TEXT, b"early") + build_frame(OP_BINARY, b"\x00\x01")
             + build_frame(OP_PING, b"p"))
    with ws(echo, first_frames=first) as c:
        frames = [c.recv_frame() for _ in range(3)]
        # The pong may overtake the echoes (the server answers pings while the app works).
        assert [(f.opcode, f.payload) for f in frames if f.opcode != OP_PONG] == [
            (OP_TEXT, b"early"), (OP_BINARY, b"\x00\x01")]
        assert [f.payload for f in frames if f.opcode == OP_PONG] == [b"p"]
        c.close_handshake(1000)


@asgi_app_only
def test_upgrade_on_a_post_with_a_body_is_plain_http(echo_python):
    """A POST asking for an upgrade does not qualify: it is served as plain HTTP (its body
    framed by Content-Length), and the next request on the connection is parsed as HTTP.
    uvicorn 0.17.6 takes it for an upgrade and closes the connection."""
    data = upgrade_request("/plain", method="POST",
                           headers=[("Content-Length", "5")], body=b"hello")
    with echo_python.raw() as conn:
        conn.send(data + request_bytes("GET", "/after"))
        first = conn.read_response()
        second = conn.read_response()
    assert (first.status, first.body) == (200, b"http POST /plain 5")
    assert (second.status, second.body) == (200, b"http GET /after 0")


@pytest.mark.parametrize("variant", ["http10", "other-protocol", "no-connection-token", "head"])
def test_requests_that_do_not_ask_for_websocket_are_plain_http(echo_python, variant):
    """Only a GET over HTTP/1.1 with `Upgrade: websocket` and an `upgrade` Connection token is a
    WebSocket handshake (RFC 6455 §4.2.1); anything else carrying Upgrade is plain HTTP, and
    the connection goes on. HTTP/1.0 is closed after its answer, as HTTP/1.0 is. uvicorn
    0.17.6 refuses all but the missing token; hypercorn 0.13 refuses HTTP/1.0 (400)."""
    version, method, headers = "HTTP/1.1", "GET", []
    if variant == "http10":
        version = "HTTP/1.0"
    elif variant == "other-protocol":
        headers = [("Upgrade", "example/1")]
    elif variant == "no-connection-token":
        headers = [("Connection", "keep-alive")]
    else:
        method = "HEAD"
    data = upgrade_request("/plain", method=method, headers=headers)
    if version != "HTTP/1.1":
        data = data.replace(b" HTTP/1.1\r\n", f" {version}\r\n".encode(), 1)
    with echo_python.raw() as conn:
        conn.send(data)
        first = conn.read_response(head=method == "HEAD")
        assert first.status == 200, first
        if method != "HEAD":
            assert first.body == f"http {method} /plain 0".encode()
        if version == "HTTP/1.1":
            conn.send(request_bytes("GET", "/after"))
            assert conn.read_response().body == b"http GET /after 0"


def test_handshake_without_a_key_gets_400(echo):
    """A GET asking for websocket without Sec-WebSocket-Key is a broken handshake => 400."""
    status, _, _, sock = handshake(echo, upgrade_request("/echo", headers=[
        ("Sec-WebSocket-Key", None)]))
    sock.close()
    assert status == 400
