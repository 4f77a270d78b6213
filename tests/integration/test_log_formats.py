"""The logs' formats as a user sees them: timestamps in UTC by default or in the zone asgid
started in (log_timezone), whatever the app does to TZ; the JSON format of both logs
(log_format = json), for any bytes a client sends, a stuck worker's last words, and a Python
app's tracebacks, logging and print()."""
import calendar
import json
import re
import time

import pytest

from master_util import wait_for
from python_apps.harness import TESTS_DIR, get, pyserver, requires_python  # noqa: F401

# [2026-12-06 13:17:54 +0000] [pid] [LEVEL] [role] ...
ERROR_LINE = re.compile(
    r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) ([+-]\d{4})\] \[(\d+)\] \[([A-Z]+)\] (?:\[([^\]]+)\] )?")
# ... [06/Dec/2026:13:17:54 +0000] "GET / HTTP/1.1" ...
ACCESS_TIME = re.compile(r"\[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d) ([+-]\d{4})\]")

# Like Django at import: its TIME_ZONE into TZ, then time.tzset(). A POSIX rule, so the test
# needs no tzdata; -0600 or -0500, never the offset asgid is asked to keep.
TZ_CHANGING_APP = '''
import os
import time

os.environ["TZ"] = "CST6CDT,M3.2.0,M11.1.0"
time.tzset()


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["path"] == "/raise":
        raise RuntimeError("raised to get an error line from the worker")
    body = time.strftime("%z").encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})
'''


def offset_seconds(text):
    sign = -1 if text[0] == "-" else 1
    return sign * (int(text[1:3]) * 3600 + int(text[3:5]) * 60)


def check_close_to_now(utc_seconds, what):
    assert abs(utc_seconds - time.time()) < 120, f"{what} is not the current time"


@requires_python
@pytest.mark.parametrize("start,preload", [("fork", "off"), ("fork", "on"), ("spawn", "off")])
@pytest.mark.parametrize("timezone,asgid_tz,offset", [
    ("utc", "IST-5:30", "+0000"),    # the default: UTC whatever the zone
    ("local", "IST-5:30", "+0530"),  # the zone asgid started in, not the app's
])
def test_timestamps_ignore_the_apps_tz(pyserver, tmp_path, start, preload, timezone, asgid_tz,
                                       offset):
    (tmp_path / "tz_app.py").write_text(TZ_CHANGING_APP)
    access = tmp_path / "access.log"
    settings = {"worker_start": start, "preload_app": preload, "access_log": str(access)}
    if timezone != "utc":
        settings["log_timezone"] = timezone
    srv = pyserver("tz_app:app", app_dir=tmp_path, env={"TZ": asgid_tz}, **settings)

    # The app's zone really changed in the worker: the offsets below could have followed it.
    assert get(srv, "/").body in (b"-0600", b"-0500")
    assert get(srv, "/raise").status == 500
    wait_for(lambda: access.exists() and access.read_text().count("\n") >= 2, 5)
    wait_for(lambda: re.search(r"\[worker \d+\] .*raised to get an error line", srv.log()), 5)
    srv.stop()

    roles = set()
    for line in srv.log().splitlines():
        m = ERROR_LINE.match(line)
        if not m:
            continue
        when, line_offset, _, _, role = m.groups()
        assert line_offset == offset, line
        utc = calendar.timegm(time.strptime(when, "%Y-%m-%d %H:%M:%S")) - offset_seconds(offset)
        check_close_to_now(utc, line)
        roles.add(role.split()[0] if role else None)
    assert {"master", "worker"} <= roles, srv.log()

    lines = access.read_text().splitlines()
    assert len(lines) == 2, lines
    for line in lines:
        when, line_offset = ACCESS_TIME.search(line).groups()
        assert line_offset == offset, line
        utc = calendar.timegm(time.strptime(when, "%d/%b/%Y:%H:%M:%S")) - offset_seconds(offset)
        check_close_to_now(utc, line)


# ---------------------------------------------------------------- log_format = json

# Requests carrying what a JSON line must survive: invalid UTF-8 (overlong, surrogate, beyond
# U+10FFFF, truncated, stray continuation bytes), C0 and C1 controls, DEL, quotes and
# backslashes, in the target and in header values. The server answers some with 400 (a target
# or a method takes no byte above 0x7e, a header value no control); every one of them still
# gets its access log line.
INVALID_UTF8 = b"\xff\xfe\x85\xc0\x80\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82"
MIXED_UTF8 = b"\xf0\x9f\x98\x80 \xc2\x85 \xe2\x80\xa8 \xc3\x28 \xf0\x9f\x98"
HOSTILE_REQUESTS = [
    b"GET /echo?q=%22 HTTP/1.1\r\nHost: t\r\nUser-Agent: " + MIXED_UTF8 + b"\r\n"
    b'Referer: r\\"\\\\"' + INVALID_UTF8 + b"\r\n\r\n",
    b'GET /echo?a="b"\\c\\"} HTTP/1.1\r\nHost: t\r\nUser-Agent: "}\\\r\n\r\n',
    b"GET /echo?" + INVALID_UTF8 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /echo\x01\x1b[2J HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /echo HTTP/1.1\r\nHost: t\r\nUser-Agent: a\x01b\x7f\r\n\r\n",
    b"GET /echo HTTP/1.1\r\nHost: t\r\nReferer: \x1b]0;title\x07\r\n\r\n",
    b"G\xc3\xa9T /\xe9 HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /echo?%0A%22 HTTP/1.1\r\nHost: t\r\nUser-Agent: " + bytes(range(0x80, 0x100)) +
    b"\r\n\r\n",
]


def json_lines(path):
    """Every line of a log file, each parsed by a strict parser (bytes must be UTF-8)."""
    data = path.read_bytes()
    assert data.endswith(b"\n"), data[-200:]
    lines = data[:-1].split(b"\n")
    parsed = []
    for line in lines:
        text = line.decode("utf-8")  # strict: a byte that is not UTF-8 raises here
        assert all(c >= " " for c in text), line  # no raw control character either
        value = json.loads(text)
        assert isinstance(value, dict), line
        parsed.append(value)
    return parsed


def send_all(srv, requests):
    """Each request on a connection of its own, its answer read."""
    for raw in requests:
        with srv.raw() as conn:
            conn.send(raw)
            conn.read_response()


@pytest.mark.parametrize("timezone,suffix", [("utc", "Z"), ("local", "+05:30")])
def test_both_logs_in_json_parse_for_any_request(server, tmp_path, timezone, suffix):
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    srv = server(access_log=str(access), error_log=str(errors), log_format="json",
                 log_level="debug", log_timezone=timezone, env={"TZ": "IST-5:30"})
    send_all(srv, HOSTILE_REQUESTS + [b"GET /echo HTTP/1.1\r\nHost: t\r\n\r\n"])
    assert srv.stop() == 0

    entries = json_lines(access)
    assert len(entries) == len(HOSTILE_REQUESTS) + 1, entries
    iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}" + re.escape(suffix) + "$")
    for e in entries:
        assert set(e) == {"time", "remote_addr", "method", "path", "query", "protocol", "status",
                          "bytes", "duration_ms", "referer", "user_agent", "pid"}, e
        assert iso.match(e["time"]), e
        assert e["remote_addr"] == "127.0.0.1"
        assert isinstance(e["status"], int) and isinstance(e["bytes"], int)
        assert isinstance(e["duration_ms"], (int, float)) and e["duration_ms"] >= 0
        assert e["pid"] in logged_pids(errors)

    # What the strings hold: the client's bytes, invalid UTF-8 replaced as Python's
    # errors="replace" does (one U+FFFD per maximal invalid subpart), nothing else changed.
    first = entries[0]
    assert first["status"] == 200, first
    assert first["path"] == "/echo" and first["query"] == "q=%22"
    assert first["user_agent"] == MIXED_UTF8.decode("utf-8", "replace"), first
    assert first["referer"] == 'r\\"\\\\"' + INVALID_UTF8.decode("utf-8", "replace"), first
    assert entries[-2]["user_agent"] == "\ufffd" * 128, entries[-2]
    assert entries[1]["query"] == 'a="b"\\c\\"}' and entries[1]["user_agent"] == '"}\\'
    assert entries[-1]["referer"] is None and entries[-1]["user_agent"] is None
    assert entries[-1]["method"] == "GET" and entries[-1]["protocol"] == "HTTP/1.1"

    # The error log: JSON objects too, the rejected requests' lines among them.
    logged = json_lines(errors)
    for e in logged:
        assert iso.match(e["time"]), e
        assert e["level"] in ("DEBUG", "INFO", "WARNING", "ERROR"), e
        assert isinstance(e["pid"], int) and isinstance(e["message"], str), e
        assert set(e) <= {"time", "level", "pid", "role", "logger", "message", "traceback"}, e
    assert any(e.get("role") == "master" for e in logged)
    assert any(e.get("role", "").startswith("worker") and e["message"].startswith("400 from")
               for e in logged), logged


def logged_pids(errors_path):
    """The pids the error log names: the master's and its workers'."""
    return {json.loads(line)["pid"] for line in errors_path.read_text().splitlines()}


def test_a_json_access_log_format_of_ones_own_stays_json(server, tmp_path):
    # The user's template: every atom lands inside a JSON string, escaped for it.
    access = tmp_path / "access.log"
    template = ('{"request":"%(r)s","agent":"%(a)s","h":"%({x-h}i)s","status":%(s)s,'
                '"t":"%(t)s"}')
    srv = server(access_log=str(access), log_format="json", access_log_format=template)
    send_all(srv, HOSTILE_REQUESTS + [
        b'GET /echo HTTP/1.1\r\nHost: t\r\nX-H: 1\r\nX-H: "\xff\\\r\n\r\n'])
    assert srv.stop() == 0
    entries = json_lines(access)
    assert len(entries) == len(HOSTILE_REQUESTS) + 1
    for e in entries:
        assert set(e) == {"request", "agent", "h", "status", "t"}, e
    assert entries[1]["request"] == 'GET /echo?a="b"\\c\\"} HTTP/1.1'
    assert entries[-1]["h"] == '1,"\ufffd\\'
    assert entries[-1]["agent"] == "-"


def test_a_stuck_workers_last_words_are_json_too(server, tmp_path):
    # The line a hung worker writes from its SIGABRT handler (prepared in advance, filled in
    # with async-signal-safe code) is a JSON object like the others, whatever its target held.
    errors = tmp_path / "error.log"
    srv = server(error_log=str(errors), log_format="json", worker_class="event", timeout="1s",
                 log_timezone="local", env={"TZ": "IST-5:30"})
    with srv.raw(timeout=20) as conn:
        conn.send(b'GET /spin?ms=20000&q="\\%FF HTTP/1.1\r\nHost: t\r\n\r\n')
        assert wait_for(lambda: "aborted, stuck" in errors.read_text(), 10), srv.log()
    srv.stop()
    entries = json_lines(errors)
    last_words = [e for e in entries if e["message"].startswith("aborted, stuck")]
    assert len(last_words) == 1, entries
    e = last_words[0]
    assert e["message"].endswith('the last request it started: GET /spin?ms=20000&q=??%FF'), e
    assert e["level"] == "ERROR" and e["role"] == "worker 1", e
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+05:30$", e["time"]), e


@requires_python
def test_python_errors_logging_and_prints_in_json(pyserver, tmp_path):
    # The app's traceback (60 frames), its logger's records, a caught exception's traceback,
    # print() with bytes to escape: each one JSON object, strictly parsed.
    errors, access = tmp_path / "error.log", tmp_path / "access.log"
    srv = pyserver("python_apps.logging_app:app", app_dir=TESTS_DIR, error_log=str(errors),
                   access_log=str(access), log_format="json")
    assert get(srv, "/deep").status == 500
    assert get(srv, "/log?level=WARNING&text=%22quoted%22%0Aand%1Bcontrols").status == 200
    assert get(srv, "/exception").status == 200
    assert get(srv, "/print?text=printed%09%C3%A9%FF").status == 200
    wait_for(lambda: errors.exists() and "printed" in errors.read_text(errors="replace"), 5)
    srv.stop()

    entries = json_lines(errors)
    [deep] = [e for e in entries if e["message"] == "Exception in ASGI application (GET /deep)"]
    assert deep["level"] == "ERROR" and deep["role"] == "worker 1", deep
    tb = deep["traceback"].split("\n")
    assert tb[0] == "Traceback (most recent call last):", tb[:3]
    frames = [l for l in tb if re.search(r'logging_app\.py", line \d+, in p[io]ng$', l)]
    assert len(frames) == 60, f"{len(frames)} frames of 60"
    assert tb[-1] == "RuntimeError: bottom of a 60-frame stack", tb[-3:]

    [warned] = [e for e in entries if e.get("logger") == "app" and e["level"] == "WARNING"]
    assert warned["message"] == '"quoted"\nand\x1bcontrols', warned
    [caught] = [e for e in entries if e["message"] == "caught it"]
    assert caught["logger"] == "app" and caught["level"] == "ERROR", caught
    assert caught["traceback"].endswith("ValueError: the caught exception"), caught
    assert any(e["message"] == "logged at import" and e.get("logger") == "app"
               for e in entries), entries
    assert any(e["message"] == "printed\t\u00e9\ufffd" for e in entries), entries
    assert len(json_lines(access)) == 4
