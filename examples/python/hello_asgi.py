"""hello_asgi.py - the smallest Python ASGI 3.0 app, and the one the Python benchmark runs.

Every HTTP request, whatever its method or path, gets the same bytes as the native example
(examples/native/hello.c):

    200, content-type: text/plain; charset=utf-8, content-length: 14, "Hello, world!\\n"

as one http.response.start and one final http.response.body. It never reads the request
body and declines the lifespan scope (it returns at once), so with lifespan = auto the server
runs without one, as ASGI servers do for apps that do not support it.

Run (from the repository root):
    asgid --app-dir examples/python --app hello_asgi:app --bind 127.0.0.1:8000
    uvicorn --app-dir examples/python hello_asgi:app          # the same app under uvicorn
"""

# Built once: the server copies what it needs before send() returns, and never mutates it.
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", b"14"),
    ],
}
BODY = {"type": "http.response.body", "body": b"Hello, world!\n", "more_body": False}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return  # lifespan (and websocket): not supported by this app
    await send(START)
    await send(BODY)
