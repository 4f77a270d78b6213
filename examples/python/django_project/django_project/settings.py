"""Settings of the minimal Django 3.2 project served by asgid. No database, no templates,
no sessions: only what the two views need."""
import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "asgid-example-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]

INSTALLED_APPS = []
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "django_project.urls"
DATABASES = {}
USE_TZ = True
USE_I18N = False
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
# Errors of the views go to standard error, so the server's error log shows them.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["stderr"], "level": "WARNING"}},
}
