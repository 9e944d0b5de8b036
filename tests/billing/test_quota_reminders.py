"""Quota reminders: a user is e-mailed once when their quota falls below QuotaRemindThreshold."""

from __future__ import annotations

from django.core import mail

from accounts.models import User
from billing.reminders import quota_remind_low_users
from billing.tasks import quota_remind_low_task
from config.options import option_set


def _set(user: User, *, quota: int, used: int = 10) -> None:
    User.objects.filter(pk=user.pk).update(quota=quota, used_quota=used)


def test_users_who_fall_below_the_threshold_are_told_once(db, alice, bob):
    option_set("QuotaRemindThreshold", "1000")
    User.objects.filter(pk__in=[alice.pk, bob.pk]).update(email="x@example.com")
    _set(bob, quota=10)  # already low before the first scan
    assert quota_remind_low_users() == 0  # the first scan only remembers
    _set(alice, quota=500)
    assert quota_remind_low_users() == 1
    assert [m.subject for m in mail.outbox] == ["您的额度即将用尽"]
    assert "当前剩余额度为 500" in mail.outbox[0].body and "/topup" in mail.outbox[0].body
    assert quota_remind_low_users() == 0  # not twice
    _set(alice, quota=5000)  # topped up
    quota_remind_low_users()
    _set(alice, quota=0)
    assert quota_remind_low_users() == 1
    assert mail.outbox[-1].subject == "您的额度已用尽"
    assert len(mail.outbox) == 2


def test_new_users_who_never_used_anything_are_not_told(db, alice, mallory):
    option_set("QuotaRemindThreshold", "1000")
    quota_remind_low_users()
    User.objects.filter(pk=mallory.pk).update(email="m@example.com")  # quota 0, used 0
    assert quota_remind_low_users() == 0


def test_a_threshold_of_zero_turns_reminders_off(db, alice):
    option_set("QuotaRemindThreshold", "0")
    quota_remind_low_users()
    _set(alice, quota=0)
    assert quota_remind_low_users() == 0 and quota_remind_low_task.apply().get() == 0
