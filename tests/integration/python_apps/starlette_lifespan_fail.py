"""starlette_lifespan_fail.py - a Starlette 0.26 app whose lifespan startup raises
RuntimeError("the database is down"). Starlette answers lifespan.startup.failed with the
traceback as its message, then raises the exception again."""
import contextlib

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


@contextlib.asynccontextmanager
async def lifespan(app):
    raise RuntimeError("the database is down")
    yield  # noqa: unreachable: makes this an async generator


async def home(request):
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/", home)], lifespan=lifespan)
