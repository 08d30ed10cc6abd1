from django.http import HttpRequest, JsonResponse
from django.urls import path

BODY = {
    "id": "5f3b8a1c2d4e6f7081920a1b",
    "email": "bench@example.com",
    "firstName": "Bench",
    "lastName": "User",
}


def me(request: HttpRequest) -> JsonResponse:
    """A small JSON body and nothing else: the per-request cost of Django itself."""
    return JsonResponse(BODY)


urlpatterns = [path("api/me", me)]
