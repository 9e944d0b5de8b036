"""Tell people about something: root (channel disabled/enabled, test run finished) and users (quota low).

Root hears through Message Pusher when ``MessagePusherAddress`` is set and by e-mail otherwise, or when the
pusher refuses or is unreachable (as the original's ``notifyRootUser``). Users are told by e-mail: Message
Pusher is one operator channel with one token, not an address book. Nothing here raises: a notification that
cannot go out is logged and the caller carries on (a failed e-mail must never fail a channel test).

E-mail goes through Django's configured e-mail backend with the SMTP options as its parameters, so tests (and
operators who prefer a console backend) swap the transport with ``EMAIL_BACKEND``.
"""

from __future__ import annotations

import html
import logging

import httpx

from config.options import option_int, option_str

logger = logging.getLogger(__name__)

PUSHER_TIMEOUT_S = 10
SMTP_TIMEOUT_S = 15


def notify_root(subject: str, content: str) -> bool:
    """True if the notification went out by some route; failures are logged, never raised."""
    try:
        if option_str("MessagePusherAddress") and _message_pusher(subject, content):
            return True
        root = _root_user()
        if root is None or not root.email:
            logger.info("notification not sent (no Message Pusher and no root e-mail): %s", subject)
            return False
        return send_email(root.email, subject, content)
    except Exception:
        logger.exception("notification %r could not be sent", subject)
        return False


def notify_user(user, subject: str, content: str) -> bool:
    """E-mail ``user`` (an accounts.User); root without an address is told like any root notification."""
    from accounts.models import Role

    try:
        if user.email:
            return send_email(user.email, subject, content)
        if user.role >= Role.ROOT:
            return notify_root(subject, content)
        logger.info("notification for user #%s not sent (no e-mail address): %s", user.pk, subject)
        return False
    except Exception:
        logger.exception("notification %r for user #%s could not be sent", subject, user.pk)
        return False


def send_email(to: str, subject: str, content: str) -> bool:
    """Send one e-mail with the SMTP options (``content`` may hold simple HTML); False when SMTP is unset."""
    from django.conf import settings
    from django.core.mail import get_connection, send_mail

    server = option_str("SMTPServer")
    if not server and settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
        logger.info("e-mail %r to %s not sent: SMTPServer is not configured", subject, to)
        return False
    port = option_int("SMTPPort")
    connection = get_connection(
        host=server,
        port=port,
        username=option_str("SMTPAccount"),
        password=option_str("SMTPToken"),
        use_ssl=port == 465,
        use_tls=port == 587,
        timeout=SMTP_TIMEOUT_S,
    )
    sender = (
        option_str("SMTPFrom")
        or option_str("SMTPAccount")
        or f"{option_str('SystemName')} <noreply@localhost>"
    )
    plain = html.unescape(content.replace("<br/>", "\n").replace("<br>", "\n"))
    send_mail(subject, plain, sender, [to], connection=connection, html_message=f"<p>{content}</p>")
    return True


def _root_user():
    from accounts.models import Role, User

    roots = User.objects.filter(role=Role.ROOT).order_by("id")
    return roots.exclude(email="").first() or roots.first()


def _message_pusher(subject: str, content: str) -> bool:
    """POST ``{title, description, content, token}``; the pusher answers ``{success, message}``."""
    try:
        response = httpx.post(
            option_str("MessagePusherAddress"),
            json={
                "title": subject,
                "description": content,
                "content": content,
                "token": option_str("MessagePusherToken"),
            },
            timeout=PUSHER_TIMEOUT_S,
        )
    except httpx.HTTPError as exc:
        logger.error("Message Pusher unreachable for %r (%s); trying e-mail", subject, exc.__class__.__name__)
        return False
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not isinstance(body, dict) or not body.get("success"):
        message = body.get("message") if isinstance(body, dict) else None
        logger.error("Message Pusher refused %r: %s; trying e-mail", subject, message or response.text[:200])
        return False
    return True
