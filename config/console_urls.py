"""Console page routes (server-rendered), with the original's page paths (spec §8)."""

from django.urls import include, path

from accounts import views as account_views
from accounts import views_tokens
from logs_app import views as log_views
from redeem import views as redeem_views

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    # accounts
    path("login", account_views.login_page, name="login"),
    path("logout", account_views.logout_page, name="logout"),
    path("register", account_views.register_page, name="register"),
    # usage
    path("dashboard", log_views.dashboard_page, name="dashboard"),
    path("log", log_views.log_list_page, name="log-list"),
    # API keys
    path("token", views_tokens.token_list_page, name="token-list"),
    path("token/new", views_tokens.token_edit_page, name="token-new"),
    path("token/<int:token_id>/edit", views_tokens.token_edit_page, name="token-edit"),
    path("token/<int:token_id>/status", views_tokens.token_status_view, name="token-status"),
    path("token/<int:token_id>/delete", views_tokens.token_delete_view, name="token-delete"),
    # top-up and redemption codes
    path("topup", redeem_views.topup_page, name="topup"),
    path("redemption", redeem_views.redemption_list_page, name="redemption-list"),
    path("redemption/new", redeem_views.redemption_create_view, name="redemption-new"),
    path("redemption/export.csv", redeem_views.redemption_export_view, name="redemption-export"),
    path("redemption/<int:code_id>/status", redeem_views.redemption_status_view, name="redemption-status"),
    path("redemption/<int:code_id>/delete", redeem_views.redemption_delete_view, name="redemption-delete"),
]
