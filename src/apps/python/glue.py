"""asgid's Python side of the ASGI bridge, compiled into the asgid binary.

The C side (bridge.c, request_object.c) builds the scope and the receive and send callables
of every new connection scope (http or lifespan) and runs run() for it as an asyncio Task.
"""
import asyncio
import traceback

import _asgid

_app = None


def configure(app):
    global _app
    _app = app


async def run(request, scope, receive, send):
    try:
        result = await _app(scope, receive, send)
        if result is not None:
            _asgid.log_error("ASGI app returned a value instead of None: %r" % (result,))
    except (asyncio.CancelledError, GeneratorExit):
        raise  # the Task was cancelled or closed (a stop, or the app's own doing): no app error
    except BaseException as exc:  # noqa: B902 - every failure of an app is logged, then the server decides
        if scope["type"] == "lifespan":
            _asgid.log_lifespan_exception("".join(traceback.format_exception(exc)))
        else:
            _asgid.log_error("Exception in ASGI application (%s %s)\n%s" % (
                scope.get("method", ""), scope.get("path", ""),
                "".join(traceback.format_exception(exc)).rstrip()))
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
    finally:
        request.done()
