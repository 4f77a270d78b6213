"""factory_app.py - app factories for factory = on.

`make_app()` returns an ASGI app answering "made by factory <n>" where n counts the calls in
this process (1: the factory was called exactly once). `broken_factory()` raises.
"""
CALLS = 0


def make_app():
    global CALLS
    CALLS += 1
    calls = CALLS

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = f"made by factory {calls}".encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return app


def broken_factory():
    raise RuntimeError("factory broken on purpose")
