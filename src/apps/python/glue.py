"""asgid's Python side of the ASGI bridge, compiled into the asgid binary.

The C side (bridge.c, request_object.c, runner.c) builds the scope and the receive and send
callables of every new connection scope (http, websocket or lifespan) and runs the app's
coroutine for it on a runner's asyncio Task.
"""
import traceback

import _asgid

app = None


def configure(asgi_app):
    global app
    app = asgi_app


def report(scope, exc):
    """Logs what the app raised (its cancellation is not reported: runner.c filters it).

    A WebSocket app that lets ClientDisconnected escape, from a send() after the client left,
    did nothing wrong: ASGI 2.4 says the server must not log it as an error."""
    if isinstance(exc, _asgid.ClientDisconnected):
        return
    text = "".join(traceback.format_exception(exc)).rstrip()
    if scope["type"] == "lifespan":
        _asgid.log_lifespan_exception(text)
    else:
        _asgid.log_error("Exception in ASGI application (%s %s)\n%s" % (
            scope.get("method", "WebSocket"), scope.get("path", ""), text))
