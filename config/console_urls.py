"""Console page routes (server-rendered), with the original's page paths."""

urlpatterns: list = []
