from django.urls import include, path

from dotpeer.views import MeView

urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("api/me", MeView.as_view()),
]
