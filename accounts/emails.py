"""E-mail over the SMTP server configured in the console (SMTPServer, SMTPPort, SMTPAccount, SMTPFrom, SMTPToken).

The backend is built per send from the options, so a change in the console applies to the next e-mail.
Port 465 is implicit TLS; on other ports STARTTLS is used when the server offers it (like Go's smtp.SendMail,
which the original used), so a plain relay on port 25 still works.
"""

from __future__ import annotations

import smtplib

from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string
from django.utils.html import strip_tags

from config.options import option_int, option_str

IMPLICIT_TLS_PORT = 465


class EmailNotConfigured(Exception):
    pass


class OpportunisticTLSBackend(EmailBackend):
    """Django's SMTP backend, upgraded with STARTTLS whenever the server advertises it (login after that)."""

    def open(self) -> bool | None:
        if self.connection:
            return False
        params = {"local_hostname": DNS_NAME.get_fqdn()}
        if self.timeout is not None:
            params["timeout"] = self.timeout
        try:
            connection = self.connection_class(self.host, self.port, **params)
            connection.ehlo()
            if connection.has_extn("starttls"):
                connection.starttls(context=self.ssl_context)
                connection.ehlo()
            if self.username and self.password:
                connection.login(self.username, self.password)
        except OSError:
            if not self.fail_silently:
                raise
            return None
        self.connection = connection
        return True


def smtp_backend() -> EmailBackend:
    server = option_str("SMTPServer").strip()
    if not server:
        raise EmailNotConfigured("SMTPServer is not set")
    port = option_int("SMTPPort") or 587
    implicit = port == IMPLICIT_TLS_PORT
    backend = (EmailBackend if implicit else OpportunisticTLSBackend)(
        host=server,
        port=port,
        username=option_str("SMTPAccount"),
        password=option_str("SMTPToken"),
        use_ssl=implicit,
        use_tls=False,
        timeout=15,
        fail_silently=False,
    )
    return backend


def send_email(*, to: str, subject: str, template: str, context: dict) -> None:
    """Render ``templates/emails/<template>.html`` and send it; raises on SMTP errors."""
    html = render_to_string(f"emails/{template}.html", context)
    sender = option_str("SMTPFrom") or option_str("SMTPAccount")
    message = EmailMultiAlternatives(subject, strip_tags(html), sender, [to], connection=smtp_backend())
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        raise EmailSendError(str(exc) or exc.__class__.__name__) from exc


class EmailSendError(Exception):
    pass
