"""wsframes.py - a raw WebSocket client for the conformance tests: every byte is the test's.

It does the opening handshake over a plain socket and then sends frames exactly as asked:
any fin/rsv/opcode, masked or not, any length encoding (a short length in the 16- or 64-bit
form, or a 64-bit length with its top bit set), cut into pieces sent as separate TCP writes.
It reads and parses the server's frames without judging them, so a test can check every bit
the server sent, and inflates/deflates messages per RFC 7692 when permessage-deflate was
negotiated. Every read is bounded by a timeout.

    with WsClient.connect(host, port, "/echo") as ws:
        ws.send_frame(OP_TEXT, b"hel", fin=False)
        ws.send_frame(OP_CONT, b"lo")
        assert ws.recv_message() == (OP_TEXT, b"hello")
        ws.close_handshake(1000)
"""
import base64
import hashlib
import os
import select
import socket
import struct
import time
import zlib

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
DEFLATE_TAIL = b"\x00\x00\xff\xff"


class HandshakeRefused(Exception):
    """The server answered the upgrade request with something other than 101."""

    def __init__(self, status, headers, body):
        super().__init__(f"handshake refused: {status} {headers!r} {body[:200]!r}")
        self.status, self.headers, self.body = status, headers, body


class ConnectionClosed(Exception):
    """The server closed TCP (or reset it) while a frame was expected."""


def accept_key(key):
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2)."""
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def new_key():
    return base64.b64encode(os.urandom(16)).decode()


def upgrade_request(path, host="127.0.0.1", key=None, headers=(), version="13",
                    subprotocols=None, extensions=None, method="GET", body=b""):
    """The bytes of an upgrade request. `headers` are extra (name, value) pairs, sent as is
    and after the standard ones; a standard header whose value is None is left out."""
    std = [("Host", host), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
           ("Sec-WebSocket-Key", key if key is not None else new_key()),
           ("Sec-WebSocket-Version", version)]
    if subprotocols:
        std.append(("Sec-WebSocket-Protocol", ", ".join(subprotocols)))
    if extensions:
        std.append(("Sec-WebSocket-Extensions", extensions))
    names = {n.lower() for n, _ in headers}
    lines = [f"{method} {path} HTTP/1.1"]
    lines += [f"{n}: {v}" for n, v in std if v is not None and n.lower() not in names]
    lines += [f"{n}: {v}" for n, v in headers if v is not None]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def read_http_head(sock, timeout):
    """Reads until the end of a response head; returns (status, [(name, value)], rest)."""
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\r\n\r\n" not in buf:
        chunk = _recv(sock, deadline)
        if not chunk:
            raise ConnectionClosed(f"closed during the response head: {buf!r}")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    return status, headers, rest


def _recv(sock, deadline, size=1 << 16):
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("no data from the server in time")
    sock.settimeout(remaining)
    try:
        return sock.recv(size)
    except socket.timeout:
        raise TimeoutError("no data from the server in time") from None
    except ConnectionResetError:
        return b""


def header(headers, name):
    """The value of the first header `name` (lower case), or None."""
    return next((v for n, v in headers if n == name), None)


def parse_extension(value):
    """{param: value or True} of a permessage-deflate response, or None when not there."""
    if not value:
        return None
    for ext in value.split(","):
        parts = [p.strip() for p in ext.split(";")]
        if parts[0].lower() == "permessage-deflate":
            params = {}
            for p in parts[1:]:
                k, _, v = p.partition("=")
                params[k.strip().lower()] = v.strip().strip('"') if v else True
            return params
    return None


class Frame:
    def __init__(self, fin, rsv, opcode, payload, masked=False):
        self.fin, self.rsv, self.opcode, self.payload, self.masked = fin, rsv, opcode, payload, masked

    def __repr__(self):
        data = self.payload if len(self.payload) <= 40 else self.payload[:40] + b"..."
        return (f"Frame(fin={self.fin}, rsv={self.rsv}, op={self.opcode:#x}, "
                f"len={len(self.payload)}, {data!r})")


def build_frame(opcode, payload=b"", fin=True, rsv=0, mask=True, mask_key=None,
                length_form=None, length=None):
    """One frame's bytes. rsv: the three RSV bits as a number 0..7 (4 = RSV1).
    length_form: None (shortest), 7, 16 or 64 (that encoding even when a shorter one fits).
    length: the length field to write when it must lie (default: the payload's length)."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0xF)
    m = 0x80 if mask else 0
    form = length_form or (7 if n <= 125 else 16 if n <= 0xFFFF else 64)
    if form == 7:
        head = struct.pack("!BB", b0, m | n)
    elif form == 16:
        head = struct.pack("!BBH", b0, m | 126, n)
    else:
        head = struct.pack("!BBQ", b0, m | 127, n)
    if not mask:
        return head + payload
    key = mask_key if mask_key is not None else os.urandom(4)
    return head + key + apply_mask(payload, key)


def apply_mask(data, key):
    if not data:
        return b""
    # int arithmetic on the whole payload: fast enough for the MiB-sized cases.
    n = len(data)
    full = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(full, "big")).to_bytes(n, "big")


def close_payload(code=None, reason=b""):
    if code is None:
        return b""
    if isinstance(reason, str):
        reason = reason.encode()
    return struct.pack("!H", code) + reason


def parse_close(payload):
    """(code, reason bytes) of a close frame; (None, b"") when it had no payload."""
    if len(payload) < 2:
        return None, payload
    return struct.unpack("!H", payload[:2])[0], payload[2:]


class Deflate:
    """permessage-deflate streams of the client side (RFC 7692)."""

    def __init__(self, params, offer=None):
        """params: the server's response; offer: the client's own offer (a window the client
        promised there binds it even when the response does not repeat it)."""
        self.params = params
        self.client_bits = min(_bits(params, "client_max_window_bits"),
                               _bits(offer or {}, "client_max_window_bits"))
        # The window the server announced: inflating with exactly it proves it kept to it.
        self.server_bits = _bits(params, "server_max_window_bits")
        self.client_reset = "client_no_context_takeover" in params
        self.server_reset = "server_no_context_takeover" in params
        self.compressor = None
        self.decompressor = None

    def compress(self, data):
        if self.compressor is None or self.client_reset:
            self.compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED,
                                               -self.client_bits)
        out = self.compressor.compress(data) + self.compressor.flush(zlib.Z_SYNC_FLUSH)
        assert out.endswith(DEFLATE_TAIL)
        return out[:-4]

    def decompress(self, data):
        if self.decompressor is None or self.server_reset:
            self.decompressor = zlib.decompressobj(-self.server_bits)
        return self.decompressor.decompress(data + DEFLATE_TAIL)


def _bits(params, name):
    value = params.get(name)
    return 15 if value is None or value is True else int(value)


def compress_once(data, bits=15, level=9):
    """A raw DEFLATE stream of data as one permessage-deflate message (tail removed)."""
    c = zlib.compressobj(level, zlib.DEFLATED, -bits)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4]


class WsClient:
    """A raw WebSocket client on a connected socket (after a successful handshake)."""

    def __init__(self, sock, status, headers, rest, timeout, offer=None):
        self.sock = sock
        self.status, self.headers = status, headers
        self.buf = rest
        self.timeout = timeout
        self.deflate_params = parse_extension(header(headers, "sec-websocket-extensions"))
        self.deflate = (Deflate(self.deflate_params, parse_extension(offer))
                        if self.deflate_params is not None else None)
        self.last_rsv = None  # the RSV bits of the first frame of the last message received

    # --- opening -------------------------------------------------------------------------
    @classmethod
    def connect(cls, host, port, path="/", timeout=5.0, first_frames=b"", **request_kwargs):
        """Opens a connection and completes the handshake (HandshakeRefused otherwise).
        first_frames: bytes sent in the same write as the request (frames right after it)."""
        key = request_kwargs.pop("key", None) or new_key()
        sock = open_socket(host, port, timeout)
        try:
            sock.sendall(upgrade_request(path, key=key, **request_kwargs) + first_frames)
            status, headers, rest = read_http_head(sock, timeout)
            if status != 101:
                body = rest + _read_some(sock, headers, timeout, len(rest))
                raise HandshakeRefused(status, headers, body)
            got = header(headers, "sec-websocket-accept")
            assert got == accept_key(key), f"bad Sec-WebSocket-Accept {got!r} for {key!r}"
            return cls(sock, status, headers, rest, timeout, request_kwargs.get("extensions"))
        except BaseException:
            sock.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    @property
    def subprotocol(self):
        return header(self.headers, "sec-websocket-protocol")

    # --- sending -------------------------------------------------------------------------
    def send_raw(self, data, chop=None, pause=0.005):
        """Sends bytes; with chop=n, in n-byte writes with a pause between them, so the
        server sees them in separate reads (TCP_NODELAY is set)."""
        if not chop:
            self.sock.sendall(data)
            return
        for i in range(0, len(data), chop):
            self.sock.sendall(data[i:i + chop])
            time.sleep(pause)

    def send_frame(self, opcode, payload=b"", fin=True, rsv=0, mask=True, chop=None,
                   **build_kwargs):
        self.send_raw(build_frame(opcode, payload, fin=fin, rsv=rsv, mask=mask, **build_kwargs),
                      chop=chop)

    def send_message(self, data, opcode=None, compress=False, fragments=None):
        """A whole message (text when data is str). compress: RSV1 + deflate (needs the
        extension). fragments: list of sizes to split the (compressed) payload into."""
        if isinstance(data, str):
            data, opcode = data.encode(), opcode or OP_TEXT
        opcode = opcode or OP_BINARY
        rsv = 0
        if compress:
            data, rsv = self.deflate.compress(data), 4
        if not fragments:
            self.send_frame(opcode, data, rsv=rsv)
            return
        pieces, pos = [], 0
        for size in fragments:
            pieces.append(data[pos:pos + size])
            pos += size
        pieces.append(data[pos:])
        out = b""
        for i, piece in enumerate(pieces):
            out += build_frame(opcode if i == 0 else OP_CONT, piece, fin=i == len(pieces) - 1,
                               rsv=rsv if i == 0 else 0)
        self.send_raw(out)

    def send_close(self, code=None, reason=b"", **kwargs):
        self.send_frame(OP_CLOSE, close_payload(code, reason), **kwargs)

    # --- receiving -----------------------------------------------------------------------
    def _fill(self, n, deadline):
        while len(self.buf) < n:
            chunk = _recv(self.sock, deadline)
            if not chunk:
                raise ConnectionClosed(f"server closed the connection; {len(self.buf)} bytes "
                                       f"of an incomplete frame: {self.buf[:20]!r}")
            self.buf += chunk

    def _take(self, n, deadline):
        self._fill(n, deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self, timeout=None):
        """The next frame as the server sent it (a Frame); ConnectionClosed when TCP closed."""
        deadline = time.monotonic() + (timeout or self.timeout)
        b0, b1 = self._take(2, deadline)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._take(2, deadline))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._take(8, deadline))[0]
        key = self._take(4, deadline) if b1 & 0x80 else None
        payload = self._take(n, deadline)
        if key:
            payload = apply_mask(payload, key)
        return Frame(bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF, payload, masked=key is not None)

    def recv_message(self, timeout=None):
        """The next message as (opcode, bytes), reassembled and inflated; a close frame is
        returned as (OP_CLOSE, payload). Pings are answered on the way; pongs are skipped."""
        deadline = time.monotonic() + (timeout or self.timeout)
        opcode, parts, compressed = None, [], False
        while True:
            f = self.recv_frame(max(0.001, deadline - time.monotonic()))
            assert not f.masked, f"the server masked a frame: {f!r}"
            if f.opcode == OP_PING:
                self.send_frame(OP_PONG, f.payload)
                continue
            if f.opcode == OP_PONG:
                continue
            if f.opcode == OP_CLOSE:
                return f.opcode, f.payload
            if opcode is None:
                assert f.opcode in (OP_TEXT, OP_BINARY), f"unexpected frame {f!r}"
                opcode, compressed = f.opcode, bool(f.rsv & 4)
                self.last_rsv = f.rsv
                assert f.rsv & 3 == 0 and (not compressed or self.deflate), f"bad rsv {f!r}"
            else:
                assert f.opcode == OP_CONT and f.rsv == 0, f"bad continuation {f!r}"
            parts.append(f.payload)
            if f.fin:
                data = b"".join(parts)
                if compressed:
                    data = self.deflate.decompress(data)
                return opcode, data

    def recv_text(self, timeout=None):
        op, data = self.recv_message(timeout)
        assert op == OP_TEXT, (op, data[:100])
        return data.decode()

    def expect_close(self, code, timeout=None, skip_messages=False):
        """Reads until the server's close frame; asserts its code (None: no payload; a set or
        tuple: any of them); returns (code, reason). With skip_messages, data messages before
        the close are allowed and dropped."""
        while True:
            try:
                op, data = self.recv_message(timeout)
            except ConnectionClosed as exc:
                raise AssertionError(f"TCP closed without a close frame (wanted {code})") from exc
            if op == OP_CLOSE:
                break
            assert skip_messages, f"wanted close {code}, got message {op:#x} {data[:60]!r}"
        got, reason = parse_close(data)
        wanted = code if isinstance(code, (set, tuple, frozenset)) else (code,)
        assert got in wanted, f"close code {got} {reason!r}, wanted {code}"
        return got, reason

    def close_handshake(self, code=1000, reason=b"", expect=None):
        """Client-initiated close: sends close, expects the server's close (by default the
        same code, or 1000; no payload when code is None), then the server closing TCP."""
        self.send_close(code, reason)
        if expect is None:
            expect = None if code is None else {code, 1000}
        got = self.expect_close(expect)
        self.assert_tcp_closed()
        return got

    def fail(self, code, timeout=None):
        """The server must fail the connection: a close frame with `code`, then TCP closed."""
        got = self.expect_close(code, timeout, skip_messages=True)
        # The client answers like a polite peer, then the server closes TCP first (§7.1.1).
        try:
            self.send_close(got[0] if got[0] is not None else 1000)
        except OSError:
            pass
        self.assert_tcp_closed()
        return got

    def assert_tcp_closed(self, timeout=None):
        """The server closes TCP within the timeout (EOF or reset); frames before it (e.g. a
        late pong) are dropped."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                chunk = _recv(self.sock, deadline)
            except TimeoutError:
                raise AssertionError("the server did not close TCP in time") from None
            if not chunk:
                return

    def ping(self, payload=b"", timeout=None):
        """Sends a ping and returns the payload of the pong that answers it."""
        self.send_frame(OP_PING, payload)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            f = self.recv_frame(max(0.001, deadline - time.monotonic()))
            if f.opcode == OP_PONG:
                return f.payload
            assert f.opcode == OP_PING, f"wanted a pong, got {f!r}"


def open_socket(host, port, timeout=5.0):
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _read_some(sock, headers, timeout, have):
    """The rest of a refusal's body (by Content-Length), bounded by the timeout."""
    length = header(headers, "content-length")
    want = int(length) - have if length is not None else 0
    out = b""
    deadline = time.monotonic() + timeout
    while len(out) < want:
        r, _, _ = select.select([sock], [], [], max(0, deadline - time.monotonic()))
        if not r:
            break
        chunk = sock.recv(65536)
        if not chunk:
            break
        out += chunk
    return out
