"""Views of the minimal Django project: plain text, a POST body echo, and request details."""
import json

from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt


def hello(request):
    return HttpResponse("Hello, world!\n", content_type="text/plain; charset=utf-8")


@csrf_exempt
def echo(request):
    """POST: answers with the body's length, its content type and the body itself."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    body = request.body
    return JsonResponse({
        "length": len(body),
        "content_type": request.content_type,
        "body": body.decode("utf-8", "replace"),
    })


def info(request, number):
    return JsonResponse({
        "number": number,
        "method": request.method,
        "path": request.path,
        "query": request.GET.dict(),
        "host": request.get_host(),
        "scheme": request.scheme,
        "user_agent": request.headers.get("User-Agent"),
    })
