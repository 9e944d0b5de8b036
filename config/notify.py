"""Tell the root user about something (channel disabled, quota low): Message Pusher if set, else email."""

from __future__ import annotations

import logging

import httpx

from config.options import option_int, option_str

logger = logging.getLogger(__name__)


def notify_root(subject: str, content: str) -> bool:
    """Returns True if a notification went out; failures are logged, never raised."""
    try:
        if option_str("MessagePusherAddress"):
            return _message_pusher(subject, content)
        return _email_root(subject, content)
    except Exception:
        logger.exception("notification %r could not be sent", subject)
        return False


def _message_pusher(subject: str, content: str) -> bool:
    response = httpx.post(
        option_str("MessagePusherAddress"),
        json={
            "title": subject,
            "description": content,
            "content": content,
            "token": option_str("MessagePusherToken"),
        },
        timeout=10,
    )
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code != 200 or not body.get("success"):
        logger.error(
            "Message Pusher refused notification %r: %s", subject, body.get("message", response.text[:200])
        )
        return False
    return True


def _email_root(subject: str, content: str) -> bool:
    from django.core.mail import get_connection, send_mail

    from accounts.models import Role, User

    server = option_str("SMTPServer")
    root = User.objects.filter(role=Role.ROOT).exclude(email="").order_by("id").first()
    if not server or root is None:
        logger.info("notification not sent (no SMTP server or root email): %s", subject)
        return False
    port = option_int("SMTPPort")
    connection = get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        host=server,
        port=port,
        username=option_str("SMTPAccount"),
        password=option_str("SMTPToken"),
        use_ssl=port == 465,
        use_tls=port == 587,
        timeout=15,
    )
    sender = option_str("SMTPFrom") or option_str("SMTPAccount")
    send_mail(subject, content, sender, [root.email], connection=connection, html_message=f"<p>{content}</p>")
    return True
