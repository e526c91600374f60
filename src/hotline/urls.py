from django.urls import include, path

from hotline.api import api

urlpatterns = [
    path("api/", api.urls),
    path("", include("hotline.web.urls")),  # pages (hotline.web)
]
