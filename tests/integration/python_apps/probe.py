"""probe.py - the raw ASGI 3.0 test app: one endpoint per behaviour the tests check.

Results the client cannot see in the response itself (what a receive() returned after the
response was complete, whether a late send raised) are kept in RESULTS and fetched with
GET /result?key=K (the tests run one worker, so the next request reaches the same process).

Endpoints (GET unless noted; query parameters in brackets):
  /scope, /scope/*  the scope as JSON (bytes as latin-1 text, tuples as lists)
  /echo (POST)      the body back; x-chunks: number of http.request messages
  /chunks (POST)    JSON list of [len(body), more_body] of every http.request message
  /after-body[?key] reads the body, then a receive() must stay pending until the response is
                    complete; records "pending=<bool> then=<type>"
  /receive-twice[?key]  two tasks receive() at once; records the two message types
  /create-task-receive (POST)  the body read through asyncio.create_task(receive())
  /cancel-receive (POST)[?key]  a receive() task cancelled before the body came, then a new
                    receive() gets it; answers the body; records "cancelled" once it cancelled
  /wait-disconnect[?key]  answers nothing; waits for http.disconnect; records its type
  /send-after-disconnect[?key]  waits for http.disconnect, then sends a response; records
                    "ok" or the exception's type
  /read-then-answer (POST)  receive() once (so 100-continue applies), answer "got N"
  /no-read          answers without reading the body
  /order[?kind=body-first|double-start|after-complete|unknown-type|start-after-body]
                    sends out of order; answers or records the exception type and message
  /no-response      returns without sending anything
  /raise-before     raises ValueError("boom-before") before the response starts
  /raise-after      starts (chunked), sends "partial", raises ValueError("boom-after")
  /partial          content-length 100, only 10 bytes, then returns
  /too-long[?key]   content-length 5, sends 10 bytes; records the exception of that send
  /bad-header[?kind=cr|lf|nul|name-space|name-colon]  a start with a bad header; answers
                    "refused:<exception type>" after the refusal (or "accepted")
  /body-for-head    a 5-byte body with content-length 5 (the test sends HEAD)
  /status[?code]    that status, with body "x" (none for 204/304)
  /stream[?n]       n chunks "i\\n" without content-length
  /single           one body, no content-length header
  /large[?size]     size bytes of 'x' (streamed in 64 KiB pieces, no content-length)
  /sleep[?ms]       asyncio.sleep, then "slept"
  /slow-consume (POST) [?ms]  receive() once, sleep ms (default 1000), then read the rest;
                    answers the total body length
  /produce[?size&key]  streams size bytes (default 64 MiB) in 64 KiB sends; records the
                    bytes send() has accepted so far under key
  /to-thread        asyncio.to_thread and run_in_executor results
  /subprocess       asyncio.create_subprocess_exec(sys.executable, -c, ...) output
  /sys              interpreter facts: sys.executable, argv, __name__, loop class, ...
  /state            the request scope's state; then adds "added" and appends to state["log"]
  /pid              os.getpid()
  /random           "<pid> <random.getrandbits(64)>" from the global random generator
  /start-thread[?s] starts a NON-daemon thread sleeping s seconds (default 60): an
                    interpreter that waits for it at exit would keep the worker alive
  /print[?msg]      writes msg to stderr, answers "printed"
  /result[?key]     what an earlier request recorded
  /return-value     a normal response, then returns 42 instead of None
  /drop-receive (POST)  calls receive() without awaiting it, drops it, then reads the body:
                    a dropped receive() must not swallow the event it asked for
  /cancel-after-event[?key=K] (POST)  a task waiting in receive() is cancelled after its event
                    came but before it ran again; a receive() dropped unawaited takes that
                    event next; a later receive() must still get it. Answers
                    "<how it went> <body>"; RESULTS[K] = "waiting" once the task waits
  /task[?suspend=1]  JSON of the running Task as the app sees it: is_task, sniffio's library,
                    cancelling(), the REQUEST_VAR context variable as the request found it
                    (each request must find it unset), and whether the Task stayed the same
                    across an asyncio.sleep(0) (suspend=1); then sets REQUEST_VAR
  /self-cancel[?suspend=1]  cancels its own Task (after a first suspension with suspend=1),
                    then awaits asyncio.sleep(0); answers "cancelled" or "not cancelled"
  /timeout[?ms]     (after sleeping ms, if given: a first suspension even with 0)
                    asyncio.timeout(0.01) around asyncio.sleep(1);
                    answers "<outcome> cancelling=<n>" (TimeoutError expected, and 0)
  /hold[?ms]        sleeps ms (default 3000) as a held task, then answers "held"
  /cancel-held      cancels the held tasks; answers "cancelled <n>"
  /bg-start         starts a background task that, cancelled, cleans up and returns
                    "bg cleaned up and returned"; answers "started"
  /cancel-bg[?suspend=1]  cancels its own Task while it awaits that background task (which
                    the cancel reaches too); answers what the await gave
  /sweep[?ms]       for ms (default 1000), cancels every task but its own and the lifespan's
                    on every loop pass; answers "swept <n>"
  /cancel-others    cancels every task but its own and the lifespan's, as some apps do at
                    shutdown, and awaits them; answers "cancelled <n>"
  /leave-task[?key] answers "left", returning while a task it started still waits on
                    receive() and then sends; records "<receive type> <send outcome>"
  /spin[?ms]        keeps the event loop busy for ms (default 100) without yielding, as a
                    CPU-bound app does; answers "spun"
  /wait-file?path=P  blocks the event loop (time.sleep) until file P exists, for up to 5 s;
                    answers "seen" or "timeout"
  /task-group[?suspend=1&fail=1|alone]  an asyncio.TaskGroup (after a first suspension with
                    suspend=1). Without fail: three children return their number doubled and
                    REQUEST_VAR as they found it. With fail=1: one child sleeps 10 s, another
                    raises ValueError in its first step, while the app's own body sleeps 10 s
                    in the group (only the cancel of the group's parent, the request's Task,
                    ends that sleep). With fail=alone: the failing child only, and a body that
                    does not wait. JSON of what the group gave or raised, the sleeping child's
                    fate, cancelling() and whether an asyncio.sleep(0) after the group still
                    runs on the same Task (or "CancelledError" if it raised that); with
                    fail=alone, {"request": that, "own_task": the same on a new Task}
  /cancel-taken-back[?suspend=1]  cancels its own Task and takes the cancel back (uncancel())
                    before it waits, then awaits asyncio.sleep(0); then does the same on a new
                    Task of its own. JSON of both outcomes ("cancelled" or "not cancelled":
                    Python 3.13's uncancel() forgets a cancel not yet delivered, 3.11's does
                    not) and cancelling()
  /children[?suspend=1]  create_task children under the loop's task factory: whether the
                    first one's first step ran inside create_task (eager), which task was
                    current in it and after it, its result, and a second one cancelled
Lifespan: startup puts {"greeting": "hello", "log": []} in the state; PROBE_PY_SHUTDOWN_FILE
names a file the shutdown writes "shutdown" to; PROBE_PY_TASK_FACTORY=eager makes startup
install asyncio.eager_task_factory (Python 3.12+) as the loop's task factory.
"""
import asyncio
import contextvars
import json
import os
import sys
import time
from urllib.parse import parse_qs

RESULTS = {}
REQUEST_VAR = contextvars.ContextVar("request_var", default="unset")
LIFESPAN_TASKS = set()
HELD = set()
BACKGROUND = {}
TASKS = set()  # tasks the app leaves running: a strong reference, as asyncio asks
IMPORT_PID = os.getpid()
IMPORT_PPID = os.getppid()


def jsonable(value):
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


async def respond(send, body, status=200, headers=(), content_type=b"text/plain"):
    if isinstance(body, str):
        body = body.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


async def respond_json(send, obj, status=200):
    await respond(send, json.dumps(obj), status, content_type=b"application/json")


async def read_body(receive):
    body = bytearray()  # not bytes +=, which is quadratic over a large upload
    while True:
        message = await receive()
        assert message["type"] == "http.request", message
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return bytes(body)


def describe(exc):
    return f"{type(exc).__name__}: {exc}"


async def lifespan(scope, receive, send):
    LIFESPAN_TASKS.add(asyncio.current_task())
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if os.environ.get("PROBE_PY_TASK_FACTORY") == "eager":
                asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
            if "state" in scope:
                scope["state"]["greeting"] = "hello"
                scope["state"]["log"] = []
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            marker = os.environ.get("PROBE_PY_SHUTDOWN_FILE")
            if marker:
                with open(marker, "w") as f:
                    f.write("shutdown")
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await lifespan(scope, receive, send)
        return
    assert scope["type"] == "http", scope["type"]
    path = scope["path"]
    if path.startswith(scope["root_path"]):  # routes are past root_path, as a router strips it
        path = path[len(scope["root_path"]):]
    query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode("latin-1")).items()}
    key = query.get("key", path)
    handler = ROUTES.get(path) or (r_scope if path.startswith("/scope/") else None)
    if handler is None:
        await respond(send, "not found", 404)
        return
    return await handler(scope, receive, send, query, key)


async def r_scope(scope, receive, send, query, key):
    out = {k: jsonable(v) for k, v in scope.items() if k not in ("state",)}
    out["state"] = jsonable(scope.get("state"))
    out["types"] = {k: type(v).__name__ for k, v in scope.items()}
    out["header_types"] = sorted({f"{type(n).__name__},{type(v).__name__}"
                                  for n, v in scope["headers"]})
    await respond_json(send, out)


async def r_echo(scope, receive, send, query, key):
    body = bytearray()
    count = 0
    while True:
        message = await receive()
        count += 1
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    await respond(send, bytes(body), headers=[(b"x-chunks", str(count).encode())],
                  content_type=b"application/octet-stream")


async def r_chunks(scope, receive, send, query, key):
    chunks = []
    while True:
        message = await receive()
        chunks.append([message["type"], len(message.get("body", b"")),
                       message.get("more_body", False), type(message.get("body")).__name__])
        if not message.get("more_body", False):
            break
    await respond_json(send, chunks)


async def r_after_body(scope, receive, send, query, key):
    await read_body(receive)
    task = asyncio.ensure_future(receive())
    await asyncio.sleep(0.2)
    pending = not task.done()
    early = task.result()["type"] if task.done() else None
    await respond(send, f"pending={pending}")
    try:
        message = await asyncio.wait_for(task, 3) if not task.done() else task.result()
        RESULTS[key] = f"pending={pending} early={early} then={message['type']}"
    except asyncio.TimeoutError:
        RESULTS[key] = f"pending={pending} early={early} then=timeout"


async def r_receive_twice(scope, receive, send, query, key):
    a = asyncio.ensure_future(receive())
    b = asyncio.ensure_future(receive())
    done, _ = await asyncio.wait([a, b], timeout=2, return_when=asyncio.FIRST_COMPLETED)
    first = sorted(t.result()["type"] for t in done)
    await respond(send, f"first={first}")
    done, pending = await asyncio.wait([a, b], timeout=3)
    types = sorted(t.result()["type"] for t in done)
    RESULTS[key] = f"first={first} all={types} pending={len(pending)}"
    for t in pending:
        t.cancel()


async def r_create_task_receive(scope, receive, send, query, key):
    body = b""
    while True:
        message = await asyncio.create_task(receive())
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    await respond(send, body)


async def r_cancel_receive(scope, receive, send, query, key):
    task = asyncio.create_task(receive())
    await asyncio.sleep(0.05)
    cancelled_before_data = not task.done()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    RESULTS[key] = "cancelled"  # the test sends the body only now
    body = b""
    if task.cancelled() or task.exception() is not None:
        pass
    else:
        body = task.result().get("body", b"")  # the body came before the cancel
        if not task.result().get("more_body", False):
            await respond(send, body + b" (early)")
            return
    body += await asyncio.wait_for(read_body(receive), 3)
    await respond(send, body + (b" (cancelled)" if cancelled_before_data else b""))


async def r_wait_disconnect(scope, receive, send, query, key):
    RESULTS[key] = "waiting"
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            RESULTS[key] = message["type"]
            return


async def r_send_after_disconnect(scope, receive, send, query, key):
    RESULTS[key] = "waiting"
    while (await receive())["type"] != "http.disconnect":
        pass
    try:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"late"})
        RESULTS[key] = "ok"
    except Exception as exc:  # noqa: BLE001 - the test wants to know which
        RESULTS[key] = describe(exc)


async def r_read_then_answer(scope, receive, send, query, key):
    body = await read_body(receive)
    await respond(send, f"got {len(body)}")


async def r_no_read(scope, receive, send, query, key):
    await respond(send, "not read")


async def r_order(scope, receive, send, query, key):
    kind = query.get("kind", "body-first")
    start = {"type": "http.response.start", "status": 200,
             "headers": [(b"content-type", b"text/plain")]}
    try:
        if kind == "body-first":
            await send({"type": "http.response.body", "body": b"early"})
        elif kind == "double-start":
            await send(start)
            await send(start)
        elif kind == "unknown-type":
            await send({"type": "http.response.nonsense"})
        elif kind == "after-complete":
            await send(start)
            await send({"type": "http.response.body", "body": b"done"})
            await send({"type": "http.response.body", "body": b"more"})
        elif kind == "start-after-body":
            await send(start)
            await send({"type": "http.response.body", "body": b"x", "more_body": True})
            await send(start)
        RESULTS[key] = "no error"
    except Exception as exc:  # noqa: BLE001
        RESULTS[key] = describe(exc)
    if kind in ("body-first", "unknown-type"):
        await respond(send, f"caught {RESULTS[key]}")
    elif kind in ("double-start",):
        await send({"type": "http.response.body", "body": f"caught {RESULTS[key]}".encode()})
    elif kind == "start-after-body":
        await send({"type": "http.response.body", "body": b"y"})


async def r_no_response(scope, receive, send, query, key):
    return None


async def r_raise_before(scope, receive, send, query, key):
    raise ValueError("boom-before")


async def r_raise_after(scope, receive, send, query, key):
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"partial", "more_body": True})
    raise ValueError("boom-after")


async def r_partial(scope, receive, send, query, key):
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"100")]})
    await send({"type": "http.response.body", "body": b"0123456789", "more_body": True})


async def r_too_long(scope, receive, send, query, key):
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"5")]})
    try:
        await send({"type": "http.response.body", "body": b"0123456789"})
        RESULTS[key] = "no error"
    except Exception as exc:  # noqa: BLE001
        RESULTS[key] = describe(exc)


BAD_HEADERS = {
    "cr": (b"x-injected", b"a\rb"),
    "lf": (b"x-probe", b"a\nx-injected: 1"),
    "crlf": (b"x-probe", b"a\r\nx-injected: 1"),
    "nul": (b"x-probe", b"a\x00b"),
    "name-space": (b"x probe", b"1"),
    "name-colon": (b"x-injected:", b"1"),
    "name-crlf": (b"x-probe\r\nx-injected", b"1"),
}


async def r_bad_header(scope, receive, send, query, key):
    name, value = BAD_HEADERS[query.get("kind", "crlf")]
    try:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(name, value), (b"content-type", b"text/plain")]})
    except Exception as exc:  # noqa: BLE001
        await respond(send, f"refused:{type(exc).__name__}")
        return
    await send({"type": "http.response.body", "body": b"accepted"})


async def r_body_for_head(scope, receive, send, query, key):
    await respond(send, "12345")


async def r_status(scope, receive, send, query, key):
    code = int(query.get("code", "200"))
    if code in (204, 304):
        await send({"type": "http.response.start", "status": code, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    else:
        await respond(send, "x", code)


async def r_stream(scope, receive, send, query, key):
    n = int(query.get("n", "5"))
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    for i in range(n):
        await send({"type": "http.response.body", "body": f"{i}\n".encode(), "more_body": True})
        await asyncio.sleep(0.01)
    await send({"type": "http.response.body", "body": b""})


async def r_single(scope, receive, send, query, key):
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"single body"})


async def r_large(scope, receive, send, query, key):
    size = int(query.get("size", str(4 << 20)))
    piece = b"x" * 65536
    await send({"type": "http.response.start", "status": 200, "headers": []})
    left = size
    while left > 0:
        n = min(left, len(piece))
        left -= n
        await send({"type": "http.response.body", "body": piece[:n], "more_body": left > 0})


async def r_sleep(scope, receive, send, query, key):
    await asyncio.sleep(int(query.get("ms", "100")) / 1000)
    await respond(send, "slept")


async def r_spin(scope, receive, send, query, key):
    end = time.monotonic() + int(query.get("ms", "100")) / 1000
    while time.monotonic() < end:
        pass
    await respond(send, "spun")


async def r_wait_file(scope, receive, send, query, key):
    end = time.monotonic() + 5
    while not os.path.exists(query["path"]) and time.monotonic() < end:
        time.sleep(0.01)
    await respond(send, "seen" if os.path.exists(query["path"]) else "timeout")


async def r_slow_consume(scope, receive, send, query, key):
    first = await receive()
    total = len(first.get("body", b""))
    chunks = 1
    await asyncio.sleep(int(query.get("ms", "1000")) / 1000)
    more = first.get("more_body", False)
    while more:
        message = await receive()
        total += len(message.get("body", b""))
        chunks += 1
        more = message.get("more_body", False)
    await respond(send, str(total), headers=[(b"x-chunks", str(chunks).encode())])


async def r_produce(scope, receive, send, query, key):
    size = int(query.get("size", str(64 << 20)))
    piece = b"p" * 65536
    sent = 0
    RESULTS[key] = "0"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(size).encode())]})
    while sent < size:
        n = min(len(piece), size - sent)
        await send({"type": "http.response.body", "body": piece[:n], "more_body": sent + n < size})
        sent += n
        RESULTS[key] = str(sent)


def blocking_work(x):
    time.sleep(0.05)
    return x * 2


async def r_to_thread(scope, receive, send, query, key):
    a = await asyncio.to_thread(blocking_work, 21)
    b = await asyncio.get_running_loop().run_in_executor(None, blocking_work, 50)
    await respond_json(send, [a, b])


async def r_subprocess(scope, receive, send, query, key):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; print('child', sys.version_info[0])",
        stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(proc.communicate(), 10)
    await respond_json(send, {"out": out.decode(), "returncode": proc.returncode})


async def r_sys(scope, receive, send, query, key):
    loop = asyncio.get_running_loop()
    try:
        import sniffio  # Debian's python3-sniffio; absent from a bare virtualenv
        library = sniffio.current_async_library()
    except Exception as exc:  # noqa: BLE001
        library = describe(exc)
    await respond_json(send, {
        "executable": sys.executable,
        "argv": sys.argv,
        "module_name": __name__,
        "main_module": getattr(sys.modules.get("__main__"), "__name__", None),
        "main_has_file": hasattr(sys.modules.get("__main__"), "__file__"),
        "path0": sys.path[0] if sys.path else None,
        "prefix": sys.prefix,
        "loop_class": f"{type(loop).__module__}.{type(loop).__qualname__}",
        "in_task": asyncio.current_task() is not None,
        "sniffio": library,
        "pid": os.getpid(),
        "import_pid": IMPORT_PID,
        "import_ppid": IMPORT_PPID,
        "version": list(sys.version_info[:3]),
    })


async def r_state(scope, receive, send, query, key):
    state = scope.get("state")
    snapshot = jsonable(state)
    if isinstance(state, dict):
        state["added"] = True
        if isinstance(state.get("log"), list):
            state["log"].append("x")
    await respond_json(send, snapshot)


async def r_random(scope, receive, send, query, key):
    import random
    await respond(send, f"{os.getpid()} {random.getrandbits(64)}")


async def r_start_thread(scope, receive, send, query, key):
    import threading
    seconds = float(query.get("s", "60"))
    threading.Thread(target=time.sleep, args=(seconds,), daemon=False, name="lingering").start()
    await respond(send, "started")


async def r_pid(scope, receive, send, query, key):
    await respond(send, str(os.getpid()))


async def r_print(scope, receive, send, query, key):
    print(query.get("msg", "hello"), file=sys.stderr, flush=True)
    await respond(send, "printed")


async def r_result(scope, receive, send, query, key):
    await respond(send, RESULTS.get(key, "<none>"))


async def r_return_value(scope, receive, send, query, key):
    await respond(send, "returned")
    return 42


async def r_drop_receive(scope, receive, send, query, key):
    dropped = receive()  # asks the server for the body, then is never awaited
    del dropped
    body = await asyncio.wait_for(read_body(receive), 3)
    await respond(send, b"got " + body)


async def r_cancel_after_event(scope, receive, send, query, key):
    waiting = asyncio.get_running_loop().create_task(receive())
    await asyncio.sleep(0)  # the task now waits on the event's future
    if key:
        RESULTS[key] = "waiting"  # the client may send the body now
    how = "not-cancelled"
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        future = waiting._fut_waiter  # noqa: SLF001 - the moment between event and wake-up
        if future is not None and future.done():
            if not waiting.done():
                waiting.cancel()  # the event is in the future; the task has not resumed
                how = "cancelled"
            break
        await asyncio.sleep(0)
    if how == "cancelled":
        await asyncio.sleep(0)  # the cancelled task runs and gives the event back
        dropped = receive()  # takes the kept event, and is never awaited: it must give it back
        del dropped
    body = await asyncio.wait_for(read_body(receive), 3) if how == "cancelled" else b""
    if how == "not-cancelled":
        message = waiting.result()
        body = message.get("body", b"")
    await respond(send, how.encode() + b" " + body)


async def r_leave_task(scope, receive, send, query, key):
    async def left_behind():
        message = await receive()  # still waiting when the app returns
        try:
            await send({"type": "http.response.body", "body": b"late"})
            outcome = "sent"
        except Exception as exc:  # noqa: BLE001 - the test wants to know which
            outcome = describe(exc)
        RESULTS[key] = f"{message['type']} {outcome}"

    RESULTS[key] = "waiting"
    task = asyncio.get_running_loop().create_task(left_behind())
    await read_body(receive)
    await asyncio.sleep(0)  # the task is now waiting in receive()
    await respond(send, "left")
    TASKS.add(task)


async def r_task(scope, receive, send, query, key):
    import sniffio

    task = asyncio.current_task()
    found = REQUEST_VAR.get()
    REQUEST_VAR.set(f"set by {scope['path']}")
    same = True
    if query.get("suspend"):
        await asyncio.sleep(0)
        same = asyncio.current_task() is task
    await respond_json(send, {
        "is_task": isinstance(task, asyncio.Task), "library": sniffio.current_async_library(),
        "cancelling": task.cancelling(), "found": found, "same_task": same,
    })


async def r_self_cancel(scope, receive, send, query, key):
    if query.get("suspend"):
        await asyncio.sleep(0)
    asyncio.current_task().cancel()
    try:
        await asyncio.sleep(0)
        outcome = "not cancelled"
    except asyncio.CancelledError:
        outcome = "cancelled"
        asyncio.current_task().uncancel()
    await respond(send, outcome)


async def r_timeout(scope, receive, send, query, key):
    if "ms" in query:
        await asyncio.sleep(int(query["ms"]) / 1000)
    try:
        async with asyncio.timeout(0.01):
            await asyncio.sleep(1)
        outcome = "no timeout"
    except TimeoutError:
        outcome = "TimeoutError"
    await respond(send, f"{outcome} cancelling={asyncio.current_task().cancelling()}")


async def r_cancel_others(scope, receive, send, query, key):
    me = asyncio.current_task()
    others = [t for t in asyncio.all_tasks() if t is not me and t not in LIFESPAN_TASKS]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)
    await respond(send, f"cancelled {len(others)}")


async def r_hold(scope, receive, send, query, key):
    me = asyncio.current_task()
    HELD.add(me)
    try:
        await asyncio.sleep(int(query.get("ms", "3000")) / 1000)
    finally:
        HELD.discard(me)
    await respond(send, "held")


async def r_cancel_held(scope, receive, send, query, key):
    held = list(HELD)
    for task in held:
        task.cancel()
    await asyncio.sleep(0.05)
    await respond(send, f"cancelled {len(held)}")


async def r_bg_start(scope, receive, send, query, key):
    async def background():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await asyncio.sleep(0.02)
            return "bg cleaned up and returned"

    BACKGROUND["task"] = asyncio.get_running_loop().create_task(background())
    await respond(send, "started")


async def r_cancel_bg(scope, receive, send, query, key):
    if query.get("suspend"):
        await asyncio.sleep(0)
    me = asyncio.current_task()
    me.cancel()
    background = BACKGROUND.pop("task")
    try:
        outcome = await background
    except asyncio.CancelledError:
        outcome = f"CancelledError while the background task was done={background.done()}"
        me.uncancel()
    await respond(send, outcome)


async def r_sweep(scope, receive, send, query, key):
    me = asyncio.current_task()
    loop = asyncio.get_running_loop()
    end = loop.time() + int(query.get("ms", "1000")) / 1000
    swept = 0
    while loop.time() < end:
        for task in asyncio.all_tasks():
            if task is not me and task not in LIFESPAN_TASKS:
                task.cancel()
                swept += 1
        await asyncio.sleep(0)
    await respond(send, f"swept {swept}")


async def task_group(fail):
    me = asyncio.current_task()
    REQUEST_VAR.set("in the group's parent")
    sleeper = {"fate": "not started"}

    async def double(n):
        await asyncio.sleep(0)
        return [n * 2, REQUEST_VAR.get()]

    async def sleep_long():
        sleeper["fate"] = "sleeping"
        try:
            await asyncio.sleep(10)
            sleeper["fate"] = "slept"
        except asyncio.CancelledError:
            sleeper["fate"] = "cancelled"
            raise

    async def fail_at_once():
        raise ValueError("child failed")

    out = {}
    try:
        async with asyncio.TaskGroup() as group:
            if fail == "alone":
                group.create_task(fail_at_once())
            elif fail:
                group.create_task(sleep_long())
                group.create_task(fail_at_once())
                await asyncio.sleep(10)
                out["body"] = "not cancelled"
            else:
                children = [group.create_task(double(n)) for n in range(3)]
        if not fail:
            out["results"] = [child.result() for child in children]
    except ExceptionGroup as raised:
        out["raised"] = type(raised).__name__
        out["errors"] = [describe(e) for e in raised.exceptions]
    if fail == "1":
        out["sleeper"] = sleeper["fate"]
    try:
        await asyncio.sleep(0)
        out["same_task"] = asyncio.current_task() is me
    except asyncio.CancelledError:
        out["same_task"] = "CancelledError"
    out["cancelling"] = me.cancelling()
    return out


async def r_task_group(scope, receive, send, query, key):
    if query.get("suspend"):
        await asyncio.sleep(0)
    fail = query.get("fail")
    out = await task_group(fail)
    if fail == "alone":
        out = {"request": out, "own_task": await asyncio.create_task(task_group(fail))}
    await respond_json(send, out)


async def cancel_then_take_back():
    me = asyncio.current_task()
    me.cancel()
    me.uncancel()
    try:
        await asyncio.sleep(0)
        return "not cancelled"
    except asyncio.CancelledError:
        return "cancelled"


async def r_cancel_taken_back(scope, receive, send, query, key):
    if query.get("suspend"):
        await asyncio.sleep(0)
    in_request = await cancel_then_take_back()
    on_own_task = await asyncio.create_task(cancel_then_take_back())
    await respond_json(send, {"request": in_request, "own_task": on_own_task,
                              "cancelling": asyncio.current_task().cancelling()})


async def r_children(scope, receive, send, query, key):
    if query.get("suspend"):
        await asyncio.sleep(0)
    me = asyncio.current_task()
    seen = {}

    async def child():
        seen["current"] = asyncio.current_task()
        await asyncio.sleep(0)
        return "child result"

    async def sleeper():
        await asyncio.sleep(10)

    child_task = asyncio.create_task(child())
    eager = bool(seen)  # its first step already ran, inside create_task
    current_after = asyncio.current_task() is me
    result = await child_task
    current_in_child = ("the child" if seen["current"] is child_task else
                        "the parent" if seen["current"] is me else repr(seen["current"]))
    doomed = asyncio.create_task(sleeper())
    await asyncio.sleep(0)
    doomed.cancel()
    try:
        await doomed
        cancelled = "not cancelled"
    except asyncio.CancelledError:
        cancelled = "cancelled"
    await respond_json(send, {
        "eager": eager, "current_in_child": current_in_child, "current_after": current_after,
        "result": result, "cancelled": cancelled, "cancelling": me.cancelling()})


ROUTES = {
    "/scope": r_scope, "/echo": r_echo, "/chunks": r_chunks, "/after-body": r_after_body,
    "/receive-twice": r_receive_twice, "/create-task-receive": r_create_task_receive,
    "/cancel-receive": r_cancel_receive, "/wait-disconnect": r_wait_disconnect,
    "/send-after-disconnect": r_send_after_disconnect,
    "/read-then-answer": r_read_then_answer, "/no-read": r_no_read, "/order": r_order,
    "/no-response": r_no_response, "/raise-before": r_raise_before,
    "/raise-after": r_raise_after, "/partial": r_partial, "/too-long": r_too_long,
    "/bad-header": r_bad_header, "/body-for-head": r_body_for_head, "/status": r_status,
    "/stream": r_stream, "/single": r_single, "/large": r_large, "/sleep": r_sleep,
    "/slow-consume": r_slow_consume, "/produce": r_produce,
    "/to-thread": r_to_thread, "/subprocess": r_subprocess, "/sys": r_sys, "/state": r_state,
    "/pid": r_pid, "/random": r_random,
    "/start-thread": r_start_thread, "/print": r_print, "/result": r_result, "/return-value": r_return_value,
    "/leave-task": r_leave_task, "/drop-receive": r_drop_receive,
    "/cancel-after-event": r_cancel_after_event, "/task": r_task, "/self-cancel": r_self_cancel,
    "/timeout": r_timeout, "/cancel-others": r_cancel_others, "/hold": r_hold,
    "/cancel-held": r_cancel_held, "/bg-start": r_bg_start, "/cancel-bg": r_cancel_bg,
    "/sweep": r_sweep, "/spin": r_spin, "/wait-file": r_wait_file,
    "/task-group": r_task_group, "/children": r_children,
    "/cancel-taken-back": r_cancel_taken_back,
}
