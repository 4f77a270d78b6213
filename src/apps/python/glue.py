"""asgid's Python side of the ASGI bridge, compiled into the asgid binary.

The C side (bridge.c) turns the server's events into ASGI dicts and calls start() for every new
scope (http or lifespan) and deliver() for every event the app asked for. This module runs the
app as an asyncio Task per scope and offers it receive() and send().

The server hands out exactly one event per _asgid.receive() call; receive() here may be awaited
by several tasks at once (Starlette does), so waiters queue up and an event that arrives for a
waiter that was cancelled meanwhile is kept for the next receive().
"""
import collections
import sys
import traceback

import _asgid

_requests = {}
_loop = None
_app = None
_state = {}
# What send() returns: awaiting a finished future costs no coroutine, and the server has
# taken the message when send() returns (it copies it), so there is nothing to wait for.
_sent = None


def configure(loop, app):
    global _loop, _app, _sent
    _loop = loop
    _app = app
    _sent = loop.create_future()
    _sent.set_result(None)


class _Request:
    __slots__ = ("handle", "waiters", "pending", "asking", "drain", "__weakref__")

    def __init__(self, handle):
        self.handle = handle
        self.waiters = collections.deque()
        self.pending = collections.deque()
        self.asking = False
        self.drain = None

    async def receive(self):
        if self.pending:
            return self.pending.popleft()
        waiter = _loop.create_future()
        self.waiters.append(waiter)
        if not self.asking:
            self.asking = True
            _asgid.receive(self.handle)
        return await waiter

    def send(self, message):
        # True: the client is behind; the send completes when it has caught up.
        if _asgid.send(self.handle, message):
            self.drain = _loop.create_future()
            return self.drain
        return _sent

    def writable(self):
        drain, self.drain = self.drain, None
        if drain is not None and not drain.done():
            drain.set_result(None)

    def deliver(self, event):
        self.asking = False
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(event)
                break
        else:
            self.pending.append(event)
        if any(not w.done() for w in self.waiters):
            self.asking = True
            _asgid.receive(self.handle)


async def _run(request, scope):
    try:
        result = await _app(scope, request.receive, request.send)
        if result is not None:
            _asgid.log_error("ASGI app returned a value instead of None: %r" % (result,))
    except BaseException as exc:  # noqa: B902 - every failure of an app is logged, then the server decides
        kind = scope.get("type")
        if kind == "lifespan":
            _asgid.log_lifespan_exception("".join(traceback.format_exception(exc)))
        else:
            _asgid.log_error("Exception in ASGI application (%s %s)\n%s" % (
                scope.get("method", ""), scope.get("path", ""),
                "".join(traceback.format_exception(exc)).rstrip()))
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
    finally:
        del _requests[request.handle]
        _asgid.done(request.handle)


def start(handle, scope):
    if scope["type"] == "lifespan":
        scope["state"] = _state
    else:
        scope["state"] = _state.copy()
    request = _Request(handle)
    _requests[handle] = request
    _loop.create_task(_run(request, scope))


def deliver(handle, event):
    request = _requests.get(handle)
    if request is not None:
        request.deliver(event)


def writable(handle):
    request = _requests.get(handle)
    if request is not None:
        request.writable()
