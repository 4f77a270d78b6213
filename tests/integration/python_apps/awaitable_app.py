"""awaitable_app.py - ASGI apps that are not `async def` functions.

`app`: an instance whose __call__ is a plain method returning an awaitable that is not a
coroutine (an object with __await__), as some frameworks' wrappers do.
`class_app`: an ASGI 3 app that is a class instance with an async __call__.
Both answer "awaitable ok" / "class ok".
"""


async def _answer(send, body):
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class _Awaitable:
    def __init__(self, coro):
        self._coro = coro

    def __await__(self):
        return self._coro.__await__()


class AwaitableApp:
    def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return _Awaitable(_noop())
        return _Awaitable(_answer(send, b"awaitable ok"))


async def _noop():
    return None


class ClassApp:
    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            await _answer(send, b"class ok")


app = AwaitableApp()
class_app = ClassApp()
