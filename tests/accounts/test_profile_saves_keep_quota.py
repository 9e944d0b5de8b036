"""Saving a profile or an admin edit must never write back a stale quota over the relay's charges."""

from __future__ import annotations

from django.db.models import F

from accounts.models import User
from accounts.services import user_admin_update, user_self_update


def _charge_behind_the_objects_back(user: User, amount: int) -> None:
    User.objects.filter(pk=user.pk).update(quota=F("quota") - amount, used_quota=F("used_quota") + amount)


def test_self_update_keeps_charges_made_meanwhile(alice):
    _charge_behind_the_objects_back(alice, 1234)
    user_self_update(user=alice, display_name="Alice A.", password="a-new-password")
    fresh = User.objects.get(pk=alice.pk)
    assert fresh.quota == 1_000_000 - 1234 and fresh.used_quota == 1234
    assert fresh.display_name == "Alice A." and fresh.check_password("a-new-password")


def test_admin_update_of_other_fields_keeps_charges_made_meanwhile(root, alice):
    _charge_behind_the_objects_back(alice, 777)
    user_admin_update(actor=root, user=alice, group="vip", display_name="VIP Alice")
    fresh = User.objects.get(pk=alice.pk)
    assert fresh.quota == 1_000_000 - 777 and fresh.group == "vip"


def test_admin_update_of_quota_sets_it(root, alice):
    user_admin_update(actor=root, user=alice, quota=42)
    assert User.objects.get(pk=alice.pk).quota == 42
