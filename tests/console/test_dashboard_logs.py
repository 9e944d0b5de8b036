from __future__ import annotations

import time

import pytest

from logs_app.models import Log, LogType


def _log(user, **fields) -> Log:
    defaults = {
        "type": LogType.CONSUME,
        "model_name": "gpt-4o",
        "quota": 1000,
        "token_name": "k",
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "created_at": int(time.time()),
    }
    defaults.update(fields)
    return Log.objects.create(user_id=user.pk, username=user.username, **defaults)


def test_the_dashboard_shows_my_balance_and_my_usage_only(as_alice, alice, bob):
    _log(alice, model_name="alice-model")
    _log(bob, model_name="bob-model")
    response = as_alice.get("/dashboard")
    page = response.content.decode()
    assert "$2.00" in page  # 1,000,000 quota at 500,000 per dollar
    series = response.context["chart"]["series"]
    assert list(series) == ["alice-model"] and sum(series["alice-model"]["requests"]) == 1
    assert "bob-model" not in page
    assert "vendor/chartjs/chart.umd.min.js" in page


def test_the_dashboard_can_show_30_days_and_raw_units(as_alice, alice):
    from config.options import option_set

    option_set("DisplayInCurrencyEnabled", "false")
    _log(alice, created_at=int(time.time()) - 20 * 86400)
    response = as_alice.get("/dashboard?days=30")
    assert len(response.context["chart"]["labels"]) == 30
    assert sum(response.context["chart"]["series"]["gpt-4o"]["requests"]) == 1
    assert "1,000,000" in response.content.decode()
    assert (
        sum(as_alice.get("/dashboard").context["chart"]["series"].get("gpt-4o", {}).get("requests", [0])) == 0
    )


def test_users_see_only_their_own_logs_and_no_admin_filters(as_alice, alice, bob):
    _log(alice, content="alice-line")
    _log(bob, content="bob-line")
    page = as_alice.get("/log?username=bob").content.decode()
    assert "alice-line" in page and "bob-line" not in page
    assert 'name="username"' not in page and 'name="channel"' not in page


def test_admins_see_everyone_and_can_filter(as_admin, alice, bob):
    _log(alice, content="alice-line", channel_id=3)
    _log(bob, content="bob-line", model_name="claude")
    page = as_admin.get("/log").content.decode()
    assert "alice-line" in page and "bob-line" in page
    assert "bob-line" not in as_admin.get("/log?username=alice").content.decode()
    assert "alice-line" not in as_admin.get("/log?model_name=claude").content.decode()
    assert "bob-line" not in as_admin.get("/log?channel=3").content.decode()


@pytest.mark.parametrize("type_value,shown", [("2", "consume-line"), ("1", "topup-line")])
def test_filter_by_type_and_time(as_alice, alice, type_value, shown):
    now = int(time.time())
    _log(alice, content="consume-line", created_at=now - 60)
    _log(alice, content="topup-line", type=LogType.TOPUP, created_at=now - 60)
    _log(alice, content="ancient-line", created_at=now - 400 * 86400)
    page = as_alice.get(f"/log?type={type_value}&start=2000-01-01T00:00").content.decode()
    assert shown in page
    recent = as_alice.get("/log?start=" + time.strftime("%Y-%m-%dT%H:%M", time.localtime(now - 86400)))
    assert "ancient-line" not in recent.content.decode()


def test_keyset_pages_walk_older_and_newer(as_alice, alice):
    base = int(time.time()) - 1000
    for n in range(45):
        _log(alice, content=f"line-{n:02d}", created_at=base + n // 3)  # ties on created_at too
    first = as_alice.get("/log")
    rows = first.context["page"]["rows"]
    assert [r.content for r in rows][:2] == ["line-44", "line-43"] and len(rows) == 20
    older = first.context["page"]["older"]
    second = as_alice.get(f"/log?before={older}").context["page"]
    third = as_alice.get(f"/log?before={second['older']}").context["page"]
    seen = (
        [r.content for r in rows] + [r.content for r in second["rows"]] + [r.content for r in third["rows"]]
    )
    assert seen == [f"line-{n:02d}" for n in range(44, -1, -1)] and third["older"] == ""
    back = as_alice.get(f"/log?after={second['newer']}").context["page"]
    assert [r.content for r in back["rows"]] == [r.content for r in rows]


def test_totals_for_the_filter_on_request(as_alice, alice, bob):
    _log(alice, quota=1500, model_name="m1")
    _log(alice, quota=500, model_name="m1")
    _log(alice, quota=7, model_name="m2")
    _log(bob, quota=99999, model_name="m1")
    assert as_alice.get("/log?model_name=m1").context["totals"] is None
    totals = as_alice.get("/log?model_name=m1&stat=1").context["totals"]
    assert totals["quota"] == 2000 and totals["rows"] == 2 and totals["prompt"] == 20


def test_log_content_is_escaped(as_alice, alice):
    _log(alice, content="<script>alert(1)</script>", model_name="<b>m</b>")
    page = as_alice.get("/log").content.decode()
    assert "<script>alert(1)</script>" not in page and "<b>m</b>" not in page


def test_a_bad_date_is_reported_next_to_the_field(as_alice):
    page = as_alice.get("/log?start=yesterday").content.decode()
    block = page.split('id="field-start"')[1].split("</div>")[0]
    assert 'class="error"' in block
