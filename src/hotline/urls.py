from django.urls import path

from hotline.api import api

urlpatterns = [
    path("api/", api.urls),
]
