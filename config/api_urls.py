"""Every JSON API route under /api, gathered from the apps' `api.py` modules."""

urlpatterns: list = []
