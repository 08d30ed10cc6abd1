from django.contrib import admin
from django.urls import include, path

from accounts.views import home, my_account

# The product's name in the admin's header and title, not "Django administration".
admin.site.site_header = "OAuth Consent Server administration"
admin.site.site_title = "OAuth Consent Server"

urlpatterns = [
    path("", home, name="home"),
    path("me", my_account, name="my_account"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/", include("config.api_urls")),
    path("", include("consent.urls")),
    path("", include("tokens.urls")),
]
