from __future__ import annotations

import json

from config.models import Option
from config.options import (
    default_value,
    is_secret_option,
    option_bool,
    option_int,
    option_json,
    option_set,
    option_str,
)


def test_defaults_match_the_original(db):
    assert option_bool("PasswordLoginEnabled") is True
    assert option_bool("AutomaticDisableChannelEnabled") is False
    assert option_int("QuotaPerUnit") == 500_000
    assert option_int("PreConsumedQuota") == 500
    assert option_int("ChannelDisableThreshold") == 5
    assert option_int("RetryTimes") == 0
    assert option_str("SystemName") == "One API"
    assert "gmail.com" in option_str("EmailDomainWhitelist")
    assert option_json("GroupRatio") == {"default": 1, "vip": 1, "svip": 1}
    assert option_json("ModelRatio")["gpt-3.5-turbo"] == 0.25
    assert not Option.objects.exists()  # defaults are not written until changed


def test_saved_options_are_seen_and_typed(db):
    option_set("RetryTimes", "3")
    option_set("RegisterEnabled", "false")
    option_set("GroupRatio", json.dumps({"default": 1, "vip": 0.5}))
    assert option_int("RetryTimes") == 3
    assert option_bool("RegisterEnabled") is False
    assert option_json("GroupRatio")["vip"] == 0.5


def test_reads_hit_no_database_in_steady_state(db, django_assert_num_queries):
    option_set("Notice", "hello")
    option_str("Notice")
    with django_assert_num_queries(0):
        for _ in range(100):
            assert option_str("Notice") == "hello"


def test_a_change_by_another_process_is_seen_after_the_version_bump(db):
    option_set("Notice", "before")
    assert option_str("Notice") == "before"
    Option.objects.filter(key="Notice").update(value="after")  # as another node would write it
    from config.options import options_changed

    options_changed()
    assert option_str("Notice") == "after"


def test_invalid_stored_json_falls_back_to_defaults(db):
    Option.objects.create(key="GroupRatio", value="{not json")
    from config.options import options_changed

    options_changed()
    assert option_json("GroupRatio") == json.loads(default_value("GroupRatio"))


def test_secret_option_names():
    assert all(is_secret_option(k) for k in ("TurnstileSecretKey", "SMTPToken", "GitHubClientSecret"))
    assert not is_secret_option("SMTPServer")
