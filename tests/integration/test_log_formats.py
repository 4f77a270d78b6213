"""The logs' formats as a user sees them: timestamps in UTC by default or in the zone asgid
started in (log_timezone), whatever the app does to TZ; the JSON format of both logs."""
import calendar
import re
import time

import pytest

from master_util import wait_for
from python_apps.harness import get, pyserver, requires_python  # noqa: F401 (fixture)

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
