"""django_errors.py - a one-file Django 3.2 project whose view raises, for the error log
tests: GET /boom raises ValueError("boom from a Django view"); GET / answers "ok".

DJANGO_LOGGING chooses its LOGGING setting:
  stderr     (default) a StreamHandler on the "django" logger, as examples/python's project
             has: Django's records go to sys.stderr
  propagate  the "django" logger without handlers: its records reach the root logger
"""
import os

import django
from django.conf import settings
from django.http import HttpResponse
from django.urls import path

LOGGING = {
    "stderr": {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"stderr": {"class": "logging.StreamHandler"}},
        "loggers": {"django": {"handlers": ["stderr"], "level": "WARNING"}},
    },
    "propagate": {
        "version": 1,
        "disable_existing_loggers": False,
        "loggers": {"django": {"level": "WARNING"}},
    },
}[os.environ.get("DJANGO_LOGGING", "stderr")]

settings.configure(
    DEBUG=False,
    SECRET_KEY="asgid-test-not-secret",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    DATABASES={},
    USE_TZ=True,
    LOGGING=LOGGING,
)
django.setup()


def ok(request):
    return HttpResponse("ok", content_type="text/plain")


def boom(request):
    raise ValueError("boom from a Django view")


urlpatterns = [path("", ok), path("boom", boom)]

from django.core.asgi import get_asgi_application  # noqa: E402 (after settings)

application = get_asgi_application()
