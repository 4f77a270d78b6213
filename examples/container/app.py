"""app.py - the Python ASGI app of the container recipe (Dockerfile next to it): a Starlette
app, with Starlette from Debian's python3-starlette. scripts/test-image.sh builds the image and
tests/image/test_python_image.py serves it.

Routes:
    GET /                "Hello from Starlette\\n"
    GET /items/{id:int}  {"id": id}; Starlette's int convertor makes /items/x a 404
    GET /versions        {"starlette": its version, "python": the interpreter's version}
    GET /slow?s=2        streams "started\\n" at once, awaits s seconds, then "done\\n": work in
                         flight that a graceful stop (TERM) lets finish
"""
import asyncio
import platform

import starlette
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route


async def hello(request):
    return PlainTextResponse("Hello from Starlette\n")


async def item(request):
    return JSONResponse({"id": request.path_params["id"]})


async def versions(request):
    return JSONResponse({"starlette": starlette.__version__,
                         "python": platform.python_version()})


async def slow(request):
    seconds = float(request.query_params.get("s", "2"))

    async def body():
        yield "started\n"
        await asyncio.sleep(seconds)
        yield "done\n"

    return StreamingResponse(body(), media_type="text/plain")


app = Starlette(routes=[
    Route("/", hello),
    Route("/items/{id:int}", item),
    Route("/versions", versions),
    Route("/slow", slow),
])
