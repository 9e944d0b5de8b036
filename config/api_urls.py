"""Management API routes (``/api/...``), as the original's router."""

urlpatterns: list = []
