from django.contrib import admin
from django.urls import include, path

from config import observability, views

urlpatterns = [
    path("", views.home_page, name="home"),
    path("admin/", admin.site.urls),
    path("api/status", views.status_api, name="status-api"),
    path("api/notice", views.notice_api, name="notice-api"),
    path("api/about", views.about_api, name="about-api"),
    path("api/home_page_content", views.home_page_content_api, name="home-page-content-api"),
    path("api/", include("config.api_urls")),
    path("", include("config.console_urls")),
    path("metrics", observability.metrics_view, name="metrics"),
    path("healthz", observability.healthz_view, name="healthz"),
    path("readyz", observability.readyz_view, name="readyz"),
]
