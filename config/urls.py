from django.contrib import admin
from django.urls import include, path

from accounts.views import home, my_account
from config.ratelimit import rate_limited

# The product's name in the admin's header and title, not "Django administration".
admin.site.site_header = "OAuth Consent Server administration"
admin.site.site_title = "OAuth Consent Server"

urlpatterns = [
    path("", home, name="home"),
    path("me", my_account, name="my_account"),
    # The admin's login guesses the same passwords as /accounts/login/: one shared count.
    path("admin/login/", rate_limited("login", style="html")(admin.site.login)),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/", include("config.api_urls")),
    path("", include("consent.urls")),
    path("", include("tokens.urls")),
]
