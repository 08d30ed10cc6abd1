from django.http import HttpRequest, JsonResponse
from oauth2_provider.views.generic import ScopedProtectedResourceView


class MeView(ScopedProtectedResourceView):
    """The peer's `/api/me`: a bearer-checked, scope-checked small JSON resource."""

    required_scopes = ["read"]

    def get(self, request: HttpRequest) -> JsonResponse:
        user = request.resource_owner
        return JsonResponse(
            {
                "id": str(user.pk),
                "email": user.email,
                "firstName": user.first_name,
                "lastName": user.last_name,
            }
        )
