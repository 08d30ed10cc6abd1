from django.contrib.auth import views as auth_views
from django.urls import path

from config.ratelimit import rate_limited

app_name = "accounts"

urlpatterns = [
    path(
        "login/",
        # Password guessing: POSTs are rate limited per client IP (429 page, no redirect).
        rate_limited("login", style="html")(
            auth_views.LoginView.as_view(redirect_authenticated_user=True)
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
