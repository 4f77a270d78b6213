"""starlette_mw.py - Starlette 0.26 patterns that need concurrent receive() calls.

BaseHTTPMiddleware runs the endpoint in a task group and listens for http.disconnect
(`receive_or_disconnect`) while StreamingResponse also listens (`listen_for_disconnect`):
two tasks awaiting receive() at once. Routes:
  GET  /stream?n=N   a StreamingResponse of N lines, through the middleware
  POST /body         the request body's length and SHA-256, through the middleware
  GET  /plain        "plain"
The middleware adds x-middleware: 1.
"""
import asyncio
import hashlib

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route


class Tag(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        response = await call_next(request)
        response.headers["x-middleware"] = "1"
        return response


async def stream(request):
    n = int(request.query_params.get("n", "10"))

    async def lines():
        for i in range(n):
            yield f"line {i}\n"
            await asyncio.sleep(0.001)

    return StreamingResponse(lines(), media_type="text/plain")


async def body(request):
    data = await request.body()
    return JSONResponse({"length": len(data), "sha256": hashlib.sha256(data).hexdigest()})


async def plain(request):
    return PlainTextResponse("plain")


app = Starlette(routes=[Route("/stream", stream), Route("/body", body, methods=["POST"]),
                        Route("/plain", plain)],
                middleware=[Middleware(Tag)])
