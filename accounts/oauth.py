"""Sign-in with GitHub, Feishu/Lark and OpenID Connect (django-allauth), and with WeChat (spec §7).

- Client ids and secrets are console options, so ``SocialAccountAdapter.list_apps`` builds allauth's apps from
  them on every look-up (options are cached in process; nothing touches the database).
- Callbacks keep the original's URLs (``/oauth/github``, ``/oauth/lark``, ``/oauth/oidc``), so OAuth apps
  registered for the original keep working.
- The original keeps the provider's id on the user row (``github_id`` = GitHub login, ``lark_id`` = open_id,
  ``oidc_id`` = sub). Users imported from it have no allauth ``SocialAccount`` yet; the first sign-in finds
  them by that column and links them. New users are named ``github_<n>`` etc. like the original.
"""

from __future__ import annotations

import json

import httpx
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.feishu.provider import FeishuProvider
from allauth.socialaccount.providers.github.provider import GitHubProvider
from allauth.socialaccount.providers.github.views import GitHubOAuth2Adapter
from allauth.socialaccount.providers.oauth2.client import OAuth2Client, OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2Adapter, OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.db import transaction
from django.db.models import Max

from accounts.models import User
from config.options import option_bool, option_str

OIDC_ID = "oidc"
# allauth provider id -> (callback path, user column, username prefix)
PROVIDERS = {
    "github": ("/oauth/github", "github_id", "github"),
    "feishu": ("/oauth/lark", "lark_id", "lark"),
    OIDC_ID: ("/oauth/oidc", "oidc_id", "oidc"),
}


def _callback(request, provider_id: str) -> str:
    return request.build_absolute_uri(PROVIDERS[provider_id][0])


# --- adapters: the original's endpoints and callback URLs ----------------------------------------------------
class GitHubAdapter(GitHubOAuth2Adapter):
    def get_callback_url(self, request, app):
        return _callback(request, "github")


class LarkClient(OAuth2Client):
    """Feishu's v2 token endpoint takes JSON (as the original sends it); the authorize URL wants ``app_id``."""

    def get_redirect_url(self, authorization_url, scope, extra_params):
        url = super().get_redirect_url(authorization_url, scope, extra_params)
        return url.replace("client_id=", "app_id=", 1)

    def get_access_token(self, code, pkce_code_verifier=None):
        body = {
            "grant_type": "authorization_code",
            "client_id": self.consumer_key,
            "client_secret": self.consumer_secret,
            "code": code,
            "redirect_uri": self.callback_url,
        }
        reply = httpx.post(self.access_token_url, json=body, timeout=10)
        data = reply.json() if reply.headers.get("content-type", "").startswith("application/json") else {}
        if not data.get("access_token"):
            raise OAuth2Error(
                f"Feishu token exchange failed: {data.get('error_description') or reply.status_code}"
            )
        return data


class LarkAdapter(OAuth2Adapter):
    """Feishu / Lark as the original calls it (spec §7): v2 token endpoint, passport user info."""

    provider_id = "feishu"
    client_class = LarkClient
    authorize_url = "https://open.feishu.cn/open-apis/authen/v1/index"
    access_token_url = "https://open.feishu.cn/open-apis/authen/v2/oauth/token"
    profile_url = "https://passport.feishu.cn/suite/passport/oauth/userinfo"

    def get_callback_url(self, request, app):
        return _callback(request, "feishu")

    def complete_login(self, request, app, token, **kwargs):
        reply = httpx.get(self.profile_url, headers={"Authorization": f"Bearer {token.token}"}, timeout=10)
        data = reply.json()
        if not data.get("open_id"):
            raise OAuth2Error("Feishu returned no open_id")
        return self.get_provider().sociallogin_from_response(request, data)


class OidcAdapter(OpenIDConnectOAuth2Adapter):
    def __init__(self, request, provider_id: str = OIDC_ID) -> None:
        super().__init__(request, provider_id)

    def get_callback_url(self, request, app):
        return _callback(request, OIDC_ID)

    @property
    def openid_config(self):
        # Endpoints typed into the console win; discovery (OidcWellKnown) fills in the rest.
        if not hasattr(self, "_openid_config"):
            configured = {
                "authorization_endpoint": option_str("OidcAuthorizationEndpoint"),
                "token_endpoint": option_str("OidcTokenEndpoint"),
                "userinfo_endpoint": option_str("OidcUserinfoEndpoint"),
            }
            configured = {key: value for key, value in configured.items() if value}
            if len(configured) == 3 or not option_str("OidcWellKnown"):
                self._openid_config = configured
            else:
                self._openid_config = {**super().openid_config, **configured}
        return self._openid_config


class _GitHub(GitHubProvider):
    oauth2_adapter_class = GitHubAdapter


class _Lark(FeishuProvider):
    oauth2_adapter_class = LarkAdapter


class _Oidc(OpenIDConnectProvider):
    oauth2_adapter_class = OidcAdapter


_PROVIDER_CLASSES = {"github": _GitHub, "feishu": _Lark, OIDC_ID: _Oidc}


def _apps() -> list[SocialApp]:
    apps = []
    if option_bool("GitHubOAuthEnabled") and option_str("GitHubClientId"):
        apps.append(
            SocialApp(
                provider="github",
                name="GitHub",
                client_id=option_str("GitHubClientId"),
                secret=option_str("GitHubClientSecret"),
            )
        )
    if option_str("LarkClientId"):  # the original has no enable flag for Lark
        apps.append(
            SocialApp(
                provider="feishu",
                name="Feishu",
                client_id=option_str("LarkClientId"),
                secret=option_str("LarkClientSecret"),
            )
        )
    if option_bool("OidcEnabled") and option_str("OidcClientId"):
        apps.append(
            SocialApp(
                provider="openid_connect",
                provider_id=OIDC_ID,
                name="OpenID Connect",
                client_id=option_str("OidcClientId"),
                secret=option_str("OidcClientSecret"),
                settings={"server_url": option_str("OidcWellKnown") or "https://invalid.example"},
            )
        )
    return apps


def _next_username(prefix: str) -> str:
    n = (User.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    while User.objects.filter(username=f"{prefix}_{n}").exists():
        n += 1
    return f"{prefix}_{n}"


def _new_username(prefix: str, extra: dict) -> str:
    """OIDC keeps ``preferred_username`` when it is free (as the original); others get ``<prefix>_<n>``."""
    preferred = str(extra.get("preferred_username") or "")[:12]
    if prefix == "oidc" and preferred and not User.objects.filter(username=preferred).exists():
        return preferred
    return _next_username(prefix)


def _column_value(sociallogin: SocialLogin) -> str:
    """What the original stored: the GitHub login, else the provider's uid (open_id / sub)."""
    account = sociallogin.account
    if account.provider == "github":
        return str(account.extra_data.get("login") or account.uid)
    return str(account.uid)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request, provider=None, client_id=None):
        return [
            app
            for app in _apps()
            if (provider is None or provider in (app.provider, app.provider_id))
            and (client_id is None or app.client_id == client_id)
        ]

    def get_provider(self, request, provider, client_id=None):
        instance = super().get_provider(request, provider, client_id)
        cls = _PROVIDER_CLASSES.get(instance.app.provider_id or instance.id) if instance.app else None
        return cls(request, app=instance.app) if cls else instance

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return option_bool("RegisterEnabled")

    def pre_social_login(self, request, sociallogin) -> None:
        sociallogin.email_addresses = []  # e-mail is only stored when verified by code (spec §7)
        if sociallogin.is_existing or request.user.is_authenticated:
            return
        column = PROVIDERS[sociallogin.account.provider][1]
        legacy = User.objects.filter(**{column: _column_value(sociallogin)}, status=1).first()
        if legacy is not None:
            sociallogin.connect(request, legacy)

    @transaction.atomic
    def save_user(self, request, sociallogin, form=None):
        from accounts.services import user_register

        _path, column, prefix = PROVIDERS[sociallogin.account.provider]
        extra = sociallogin.account.extra_data or {}
        info = extra.get("userinfo") or extra  # OIDC nests its claims
        user = user_register(username=_new_username(prefix, info), password=None)
        name = info.get("name") or info.get("login") or info.get("preferred_username") or ""
        user.display_name = str(name)[:20] or user.username
        setattr(user, column, _column_value(sociallogin))
        user.save(update_fields=["display_name", column])
        sociallogin.user = user
        sociallogin.save(request)
        return user

    def get_connect_redirect_url(self, request, socialaccount) -> str:
        return "/setting#bindings"


def social_account_added(sender, request, sociallogin, **kwargs) -> None:
    """A link made from the settings page: keep the original's column in step."""
    column = PROVIDERS[sociallogin.account.provider][1]
    User.objects.filter(pk=sociallogin.user.pk).update(**{column: _column_value(sociallogin)})


# --- views at the original's paths ---------------------------------------------------------------------------
github_login = OAuth2LoginView.adapter_view(GitHubAdapter)
github_callback = OAuth2CallbackView.adapter_view(GitHubAdapter)
lark_login = OAuth2LoginView.adapter_view(LarkAdapter)
lark_callback = OAuth2CallbackView.adapter_view(LarkAdapter)
oidc_login = OAuth2LoginView.adapter_view(OidcAdapter)
oidc_callback = OAuth2CallbackView.adapter_view(OidcAdapter)


def unlink(*, user: User, provider: str) -> None:
    """Forget a linked sign-in method: the allauth account and the original's column."""
    from allauth.socialaccount.models import SocialAccount

    slug_to_provider = {"github": "github", "lark": "feishu", "oidc": OIDC_ID}
    if provider == "wechat":
        User.objects.filter(pk=user.pk).update(wechat_id="")
        return
    allauth_id = slug_to_provider[provider]
    SocialAccount.objects.filter(user_id=user.pk, provider=allauth_id).delete()
    User.objects.filter(pk=user.pk).update(**{PROVIDERS[allauth_id][1]: ""})


def can_unlink(user: User, provider: str) -> bool:
    """Refuse to remove the last way in: keep a password or another linked method."""
    columns = {"github": "github_id", "lark": "lark_id", "oidc": "oidc_id", "wechat": "wechat_id"}
    others = [c for slug, c in columns.items() if slug != provider and getattr(user, c)]
    return user.has_usable_password() or bool(others)


# --- WeChat via a WeChat Server (spec §7) --------------------------------------------------------------------
class WeChatError(Exception):
    pass


def wechat_id_for_code(code: str) -> str:
    """Ask the WeChat Server who sent ``code``: ``GET <addr>/api/wechat/user?code=`` → ``{success, data}``."""
    address = option_str("WeChatServerAddress").rstrip("/")
    if not option_bool("WeChatAuthEnabled") or not address:
        raise WeChatError("WeChat sign-in is not enabled")
    try:
        reply = httpx.get(
            f"{address}/api/wechat/user",
            params={"code": code},
            headers={"Authorization": option_str("WeChatServerToken")},
            timeout=10,
        )
        body = reply.json()
    except (httpx.HTTPError, json.JSONDecodeError) as exc:
        raise WeChatError(f"WeChat Server unreachable: {exc.__class__.__name__}") from None
    if not body.get("success") or not body.get("data"):
        raise WeChatError(body.get("message") or "invalid code")
    return str(body["data"])


@transaction.atomic
def wechat_user(wechat_id: str) -> User | None:
    """The user with this WeChat id, created (``wechat_<n>``) when registration is open; None if closed."""
    from accounts.services import user_register

    user = User.objects.filter(wechat_id=wechat_id).first()
    if user is None and option_bool("RegisterEnabled"):
        user = user_register(username=_next_username("wechat"), password=None)
        user.wechat_id = wechat_id
        user.save(update_fields=["wechat_id"])
    return user


def _connect_signals() -> None:
    from allauth.socialaccount.signals import social_account_added as added

    added.connect(social_account_added, dispatch_uid="accounts.oauth.social_account_added")


_connect_signals()
