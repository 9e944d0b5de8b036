"""E-mail verification codes, password-reset tokens, the e-mail domain whitelist and Cloudflare Turnstile.

Codes live in the Django cache for 10 minutes (spec §7: the original kept them in node memory; with Redis
configured ours work across nodes). A code is single use: checking it successfully deletes it.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import string

import httpx
from django.core.cache import cache

from config.options import option_bool, option_str

logger = logging.getLogger(__name__)

CODE_TTL_S = 600
PURPOSE_VERIFY = "v"  # registration / e-mail binding
PURPOSE_RESET = "r"  # password reset link
TURNSTILE_URL = "https://challenges.cloudflare.com/turnstile/v0/siteverify"
TURNSTILE_SESSION_KEY = "turnstile"


def _key(purpose: str, email: str) -> str:
    return f"verify:{purpose}:{email.strip().lower()}"


def code_issue(*, email: str, purpose: str) -> str:
    """A fresh code for (purpose, e-mail): 6 characters for verification, 32 hex for reset links."""
    if purpose == PURPOSE_RESET:
        code = secrets.token_hex(16)
    else:
        code = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(6))
    cache.set(_key(purpose, email), code, CODE_TTL_S)
    return code


def code_check(*, email: str, code: str, purpose: str) -> bool:
    """True when ``code`` is the live code for (purpose, e-mail); a correct code is used up."""
    expected = cache.get(_key(purpose, email))
    if not expected or not code:
        return False
    if purpose != PURPOSE_RESET:
        code = code.strip().upper()
    if not hmac.compare_digest(str(expected), code.strip()):
        return False
    cache.delete(_key(purpose, email))
    return True


def email_domain_allowed(email: str) -> bool:
    """Registration e-mails must be in EmailDomainWhitelist while EmailDomainRestrictionEnabled is on."""
    if not option_bool("EmailDomainRestrictionEnabled"):
        return True
    domain = email.rpartition("@")[2].strip().lower()
    allowed = {d.strip().lower() for d in option_str("EmailDomainWhitelist").split(",") if d.strip()}
    return bool(domain) and domain in allowed


def new_password() -> str:
    """A 12-character password for a completed reset (the original's length)."""
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(12))


def turnstile_required(request) -> bool:
    """Turnstile is checked once per session (like the original) and only when it is switched on."""
    return option_bool("TurnstileCheckEnabled") and not request.session.get(TURNSTILE_SESSION_KEY)


def turnstile_verify(request, response_token: str) -> bool:
    """Ask Cloudflare whether the widget's token is good; remember a success in the session."""
    if not turnstile_required(request):
        return True
    if not response_token:
        return False
    try:
        reply = httpx.post(
            TURNSTILE_URL,
            data={
                "secret": option_str("TurnstileSecretKey"),
                "response": response_token,
                "remoteip": request.META.get("REMOTE_ADDR", ""),
            },
            timeout=10,
        )
        ok = bool(reply.json().get("success"))
    except (httpx.HTTPError, ValueError):
        logger.warning("Turnstile verification failed to complete", exc_info=True)
        ok = False
    if ok:
        request.session[TURNSTILE_SESSION_KEY] = True
    return ok
