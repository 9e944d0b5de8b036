"""Console page routes (server-rendered), with the original's page paths (spec §8)."""

from django.urls import include, path

from accounts import oauth, views_email, views_oauth, views_settings, views_tokens, views_users
from accounts import views as account_views
from billing import views as billing_views
from channels_app import views as channel_views
from config import console_views
from logs_app import views as log_views
from redeem import views as redeem_views

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("about", console_views.about_page, name="about"),
    path("chat", console_views.chat_page, name="chat"),
    # accounts
    path("login", account_views.login_page, name="login"),
    path("logout", account_views.logout_page, name="logout"),
    path("register", account_views.register_page, name="register"),
    path("setting", views_settings.setting_page, name="setting"),
    path("setting/profile", views_settings.profile_view, name="setting-profile"),
    path("setting/access_token", views_settings.access_token_view, name="setting-access-token"),
    path("setting/system/<slug:group>", views_settings.system_setting_page, name="setting-system"),
    path("setting/email", views_email.email_bind_page, name="setting-email"),
    path("setting/unlink/<slug:provider>", views_oauth.unlink_view, name="setting-unlink"),
    # e-mail codes and password reset: pages, and the original's JSON routes
    path("reset", views_email.reset_page, name="reset"),
    path("user/reset", views_email.user_reset_page, name="user-reset"),
    path("api/verification", views_email.verification_api, name="api-verification"),
    path("api/reset_password", views_email.reset_password_api, name="api-reset-password"),
    path("api/user/reset", views_email.user_reset_api, name="api-user-reset"),
    path("api/oauth/email/bind", views_email.email_bind_api, name="api-oauth-email-bind"),
    # third-party sign-in: allauth behind the original's callback URLs; WeChat through a WeChat Server
    path("oauth/github/login", oauth.github_login, name="oauth-github-login"),
    path("oauth/github", oauth.github_callback, name="github_callback"),
    path("oauth/lark/login", oauth.lark_login, name="oauth-lark-login"),
    path("oauth/lark", oauth.lark_callback, name="feishu_callback"),
    path("oauth/oidc/login", oauth.oidc_login, name="oauth-oidc-login"),
    path("oauth/oidc", oauth.oidc_callback, name="oidc_callback"),
    path("oauth/wechat", views_oauth.wechat_page, name="oauth-wechat"),
    path("api/oauth/wechat", views_oauth.wechat_api, name="api-oauth-wechat"),
    path("api/oauth/wechat/bind", views_oauth.wechat_api, name="api-oauth-wechat-bind"),
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
    # admin: channels
    path("channel", channel_views.channel_list_page, name="channel-list"),
    path("channel/new", channel_views.channel_edit_page, name="channel-new"),
    path("channel/test_all", channel_views.channel_test_all_view, name="channel-test-all"),
    path(
        "channel/delete_disabled", channel_views.channel_delete_disabled_view, name="channel-delete-disabled"
    ),
    path("channel/fetch_models", channel_views.channel_fetch_models_view, name="channel-fetch-models"),
    path("channel/<int:channel_id>/edit", channel_views.channel_edit_page, name="channel-edit"),
    path("channel/<int:channel_id>/inline", channel_views.channel_inline_view, name="channel-inline"),
    path("channel/<int:channel_id>/status", channel_views.channel_status_view, name="channel-status"),
    path("channel/<int:channel_id>/delete", channel_views.channel_delete_view, name="channel-delete"),
    path("channel/<int:channel_id>/test", channel_views.channel_test_view, name="channel-test"),
    path("channel/<int:channel_id>/balance", channel_views.channel_balance_view, name="channel-balance"),
    # admin: users, ratios
    path("user", views_users.user_list_page, name="user-list"),
    path("user/new", views_users.user_create_view, name="user-new"),
    path("user/<int:user_id>/edit", views_users.user_edit_page, name="user-edit"),
    path("user/<int:user_id>/manage", views_users.user_manage_view, name="user-manage"),
    path("ratio", billing_views.ratio_page, name="ratio"),
]
