"""Console test helpers: signed-in clients for the cast, and a CSRF-enforcing client."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role
from accounts.services import user_create


def signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def admin(db):
    return user_create(username="admin", password="admin-password", role=Role.ADMIN, quota=10**9)


@pytest.fixture
def as_alice(alice) -> Client:
    return signed_in(alice)


@pytest.fixture
def as_mallory(mallory) -> Client:
    return signed_in(mallory)


@pytest.fixture
def as_admin(admin) -> Client:
    return signed_in(admin)


@pytest.fixture
def as_root(root) -> Client:
    return signed_in(root)


def csrf_client(user=None) -> Client:
    """A client that, like a browser, must send the CSRF token it got from a page."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def csrf_token_from(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.cookies["csrftoken"].value


class _FakeSmtp:
    """A few-line SMTP server on loopback that keeps what it receives (no TLS, no auth offered)."""

    def __init__(self) -> None:
        import socket
        import threading

        self.messages: list[dict] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as reader:
                self._session(conn, reader)

    def _session(self, conn, reader) -> None:
        conn.sendall(b"220 fake ESMTP\r\n")
        current: dict = {"rcpt": []}
        while line := reader.readline():
            command = line.decode().strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                conn.sendall(b"250-fake\r\n250 8BITMIME\r\n")
            elif verb == "MAIL":
                current = {"from": command, "rcpt": []}
                conn.sendall(b"250 ok\r\n")
            elif verb == "RCPT":
                current["rcpt"].append(command.split(":", 1)[1].strip(" <>"))
                conn.sendall(b"250 ok\r\n")
            elif verb == "DATA":
                conn.sendall(b"354 go\r\n")
                data = b""
                while (chunk := reader.readline()) not in (b".\r\n", b""):
                    data += chunk
                current["data"] = data.decode("utf-8", "replace")
                self.messages.append(current)
                conn.sendall(b"250 queued\r\n")
            elif verb == "QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"250 ok\r\n")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def smtp(db):
    """Point the SMTP options at a loopback server; ``smtp.messages`` holds what was sent."""
    from config.options import option_set

    server = _FakeSmtp()
    option_set("SMTPServer", "127.0.0.1")
    option_set("SMTPPort", str(server.port))
    option_set("SMTPFrom", "noreply@example.com")
    yield server
    server.close()
