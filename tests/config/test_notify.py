"""Notifications: Message Pusher for root (e-mail when it fails or is unset), e-mail for users."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.models import Role, User
from accounts.services import user_create
from config.notify import notify_root, notify_user
from config.options import option_set
from tests.fakes.message_pusher import FakeMessagePusher
from tests.fakes.server import ServerThread


@pytest.fixture(scope="module")
def pusher_server():
    fake = FakeMessagePusher()
    server = ServerThread(fake).start()
    fake.url = server.url
    yield fake
    server.stop()


@pytest.fixture
def pusher(pusher_server, db):
    pusher_server.reset()
    option_set("MessagePusherAddress", pusher_server.url + "/push/root")
    option_set("MessagePusherToken", pusher_server.token)
    return pusher_server


@pytest.fixture
def root_with_email(db) -> User:
    return user_create(username="root", password="x" * 8, role=Role.ROOT, email="root@example.com")


def test_root_is_told_through_message_pusher(pusher, root_with_email):
    assert notify_root("渠道「a」已被禁用", "原因：401")
    assert pusher.pushes == [
        {
            "title": "渠道「a」已被禁用",
            "description": "原因：401",
            "content": "原因：401",
            "token": "pusher-token",
        }
    ]
    assert mail.outbox == []


def test_a_refusing_pusher_falls_back_to_email(pusher, root_with_email):
    pusher.refuse = True
    assert notify_root("subject", "content")
    assert [m.to for m in mail.outbox] == [["root@example.com"]]


def test_an_unreachable_pusher_falls_back_to_email(db, root_with_email):
    option_set("MessagePusherAddress", "http://127.0.0.1:9/push")  # discard port: nothing listens
    assert notify_root("subject", "content")
    assert mail.outbox[0].subject == "subject"


def test_without_a_pusher_root_gets_an_email(db, root_with_email):
    assert notify_root("subject", "a<br/>b")
    message = mail.outbox[0]
    assert message.body == "a\nb" and message.alternatives[0][0] == "<p>a<br/>b</p>"


def test_nothing_to_send_to_is_not_an_error(db):
    user_create(username="root", password="x" * 8, role=Role.ROOT)
    assert notify_root("subject", "content") is False


def test_users_are_emailed(db, alice, pusher):
    User.objects.filter(pk=alice.pk).update(email="alice@example.com")
    alice.refresh_from_db()
    assert notify_user(alice, "您的额度即将用尽", "content")
    assert [m.to for m in mail.outbox] == [["alice@example.com"]] and pusher.pushes == []


def test_a_user_without_an_address_is_not_told(db, alice):
    assert notify_user(alice, "subject", "content") is False and mail.outbox == []
