"""Cross-node invalidation: a change is announced after its transaction commits, once per transaction."""

from __future__ import annotations

import pytest
from django.db import transaction

from accounts.models import Token
from channels_app.models import Channel
from channels_app.services import channel_save
from config import cache_versions
from config.options import _VERSION_KEY, option_set


def _shared(name: str) -> object:
    return cache_versions.shared_get(f"version:{name}")


def test_a_change_inside_a_transaction_is_announced_after_the_commit(transactional_db, alice):
    token = Token.objects.filter(user=alice).first()
    before = _shared(cache_versions.AUTH)
    local_before = cache_versions._local_bumps.get(cache_versions.AUTH, 0)
    with transaction.atomic():
        token.name = "renamed"
        token.save()
        assert _shared(cache_versions.AUTH) == before  # other nodes must not reload yet
        assert cache_versions._local_bumps[cache_versions.AUTH] > local_before  # this process forgets at once
    assert _shared(cache_versions.AUTH) != before


def test_a_rolled_back_change_is_never_announced(transactional_db, alice):
    before = _shared(cache_versions.AUTH)
    with pytest.raises(RuntimeError), transaction.atomic():
        alice.display_name = "x"
        alice.save()
        raise RuntimeError
    assert _shared(cache_versions.AUTH) == before


def test_one_announcement_per_transaction_however_many_rows_change(transactional_db):
    from django.db import connection

    with transaction.atomic():
        channel_save(Channel(name="c", type=1, model_names=",".join(f"m{i}" for i in range(50)), group="a,b"))
        channel_save(Channel(name="d", type=1, model_names="x"))
        pending = [f for _s, f, _r in connection.run_on_commit if getattr(f, "bump_marker", None)]
        assert len(pending) == 1


def test_outside_a_transaction_the_announcement_is_immediate(db_no_transaction):
    before = _shared(cache_versions.CHANNELS)
    cache_versions.bump_on_commit(cache_versions.CHANNELS)
    assert _shared(cache_versions.CHANNELS) != before


@pytest.fixture
def db_no_transaction(transactional_db):
    return transactional_db


def test_an_option_saved_in_a_transaction_is_published_after_the_commit(transactional_db):
    before = cache_versions.shared_get(_VERSION_KEY)
    with transaction.atomic():
        option_set("Notice", "hello")
        assert cache_versions.shared_get(_VERSION_KEY) == before
    assert cache_versions.shared_get(_VERSION_KEY) != before
