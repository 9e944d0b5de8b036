"""Management API routes (``/api/...``), as the original's router.

The original's Gin router redirects a trailing-slash mismatch and its UI calls both ``/api/token/`` and
``/api/channel/3/``, so every route answers with and without the slash. The second spelling is an alias
(``callback.slash_alias``) left out of the OpenAPI schema. Literal segments come before ``<int:id>``.
"""

from __future__ import annotations

from django.urls import URLPattern, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import api as accounts
from channels_app import api as channels
from config import api as site
from config.ratelimit import GlobalApiThrottle
from logs_app import api as logs
from redeem import api as redeem


def route(pattern: str, view_class, name: str) -> list[URLPattern]:
    """``pattern`` as the original spells it, plus the other slash spelling as a schema-less alias."""
    other = pattern[:-1] if pattern.endswith("/") else pattern + "/"
    alias = view_class.as_view()
    alias.slash_alias = True
    return [path(pattern, view_class.as_view(), name=name), path(other, alias, name=f"{name}-alias")]


class SchemaApi(SpectacularAPIView):
    """The OpenAPI 3 document: JSON with ``?format=json`` (or Accept: application/json), else YAML."""

    throttle_classes = [GlobalApiThrottle]


class SchemaDocsApi(SpectacularSwaggerView):
    """Swagger UI for the schema, served from drf-spectacular-sidecar's bundled files (works offline)."""

    throttle_classes = [GlobalApiThrottle]


urlpatterns: list = [
    path("schema/", SchemaApi.as_view(), name="api-schema"),
    path("schema/docs/", SchemaDocsApi.as_view(url_name="api-schema"), name="api-schema-docs"),
    *route("models", channels.ModelsByTypeApi, "api-models"),
    *route("topup", redeem.AdminTopupApi, "api-topup"),
    # users: sign-up/in, self, admin
    *route("user/register", accounts.RegisterApi, "api-user-register"),
    *route("user/login", accounts.LoginApi, "api-user-login"),
    *route("user/logout", accounts.LogoutApi, "api-user-logout"),
    *route("user/dashboard", logs.UserDashboardApi, "api-user-dashboard"),
    *route("user/self", accounts.SelfApi, "api-user-self"),
    *route("user/token", accounts.AccessTokenApi, "api-user-token"),
    *route("user/aff", accounts.AffCodeApi, "api-user-aff"),
    *route("user/topup", redeem.UserTopupApi, "api-user-topup"),
    *route("user/available_models", channels.AvailableModelsApi, "api-user-available-models"),
    *route("user/", accounts.UserListApi, "api-users"),
    *route("user/search", accounts.UserSearchApi, "api-user-search"),
    *route("user/manage", accounts.UserManageApi, "api-user-manage"),
    *route("user/<int:id>", accounts.UserDetailApi, "api-user"),
    # options and groups
    *route("option/", site.OptionApi, "api-options"),
    *route("group/", site.GroupListApi, "api-groups"),
    # channels
    *route("channel/", channels.ChannelListApi, "api-channels"),
    *route("channel/search", channels.ChannelSearchApi, "api-channel-search"),
    *route("channel/models", channels.ChannelModelsApi, "api-channel-models"),
    *route("channel/test", channels.ChannelTestAllApi, "api-channel-test-all"),
    *route("channel/test/<int:id>", channels.ChannelTestApi, "api-channel-test"),
    *route("channel/update_balance", channels.ChannelBalanceAllApi, "api-channel-balance-all"),
    *route("channel/update_balance/<int:id>", channels.ChannelBalanceApi, "api-channel-balance"),
    *route("channel/disabled", channels.ChannelDisabledApi, "api-channel-disabled"),
    *route("channel/<int:id>/key", channels.ChannelKeyApi, "api-channel-key"),
    *route("channel/<int:id>", channels.ChannelDetailApi, "api-channel"),
    # API keys
    *route("token/", accounts.TokenListApi, "api-tokens"),
    *route("token/search", accounts.TokenSearchApi, "api-token-search"),
    *route("token/<int:id>", accounts.TokenDetailApi, "api-token"),
    # redemption codes
    *route("redemption/", redeem.RedemptionListApi, "api-redemptions"),
    *route("redemption/search", redeem.RedemptionSearchApi, "api-redemption-search"),
    *route("redemption/<int:id>", redeem.RedemptionDetailApi, "api-redemption"),
    # logs
    *route("log/", logs.LogListApi, "api-logs"),
    *route("log/stat", logs.LogStatApi, "api-log-stat"),
    *route("log/search", logs.LogSearchApi, "api-log-search"),
    *route("log/self", logs.LogSelfListApi, "api-log-self"),
    *route("log/self/stat", logs.LogSelfStatApi, "api-log-self-stat"),
    *route("log/self/search", logs.LogSelfSearchApi, "api-log-self-search"),
]


def schema_without_aliases(endpoints: list, **kwargs) -> list:
    """drf-spectacular preprocessing hook: document each route once, under the original's spelling."""
    return [endpoint for endpoint in endpoints if not getattr(endpoint[3], "slash_alias", False)]
