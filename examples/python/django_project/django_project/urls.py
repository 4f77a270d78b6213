from django.urls import path

from . import views

urlpatterns = [
    path("", views.hello),
    path("echo", views.echo),
    path("info/<int:number>", views.info),
]
