"""Screenshots of the main pages at desktop and phone widths, in tests/screenshots/ (gitignored), to look at.

They also check that no page shows a server error or overflows the phone's width.
"""

from __future__ import annotations

import random
import time
import uuid

import pytest

from accounts.models import Role
from accounts.services import token_create, user_create
from channels_app.models import Channel
from channels_app.services import channel_save
from logs_app.models import Log
from redeem.models import Redemption
from tests.browser.conftest import DESKTOP, PHONE, SCREENSHOTS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/dashboard",
    "/token",
    "/token/new",
    "/log",
    "/topup",
    "/channel",
    "/channel/new",
    "/user",
    "/redemption",
    "/ratio",
    "/setting",
    "/setting/system/login",
]
ANONYMOUS_PAGES = ["/", "/login", "/register"]


def _seed() -> None:
    root = user_create(username="root", password="root-password", role=Role.ROOT, quota=25_000_000)
    alice = user_create(username="alice", password="alice-password", quota=3_000_000)
    token_create(
        user=root, name="ci-runner", remain_quota=800_000, allowed_models="gpt-4o", subnet="10.0.0.0/8"
    )
    now = int(time.time())
    channel_save(
        Channel(
            name="OpenAI main",
            type=1,
            key="k",
            model_names="gpt-4o,gpt-4o-mini",
            group="default,vip",
            priority=10,
            response_time=842,
            test_time=now,
            balance=12.5,
            balance_updated_time=now,
            used_quota=1_234_567,
        )
    )
    channel_save(Channel(name="Claude", type=14, key="k", model_names="claude-3-5-haiku-20241022", status=2))
    channel_save(
        Channel(name="DeepSeek", type=36, key="k", model_names="deepseek-chat", status=3, test_time=now)
    )
    rng = random.Random(7)
    models = ["gpt-4o", "gpt-4o-mini", "claude-3-5-haiku-20241022", "deepseek-chat"]
    Log.objects.bulk_create(
        Log(
            user_id=root.pk,
            username="root",
            type=2,
            model_name=rng.choice(models),
            token_name="ci-runner",
            quota=rng.randint(500, 9000),
            prompt_tokens=rng.randint(20, 900),
            completion_tokens=rng.randint(5, 400),
            channel_id=1,
            elapsed_time=rng.randint(300, 4000),
            is_stream=rng.random() < 0.5,
            created_at=now - rng.randint(0, 6 * 86400),
            content="倍率：1.25 × 1.00 × 4.00",
        )
        for _ in range(150)
    )
    Log.objects.create(
        user_id=alice.pk, username="alice", type=1, quota=500_000, content="通过兑换码充值 ＄1.000000 额度"
    )
    for status in (1, 2, 3):
        Redemption.objects.create(key=uuid.uuid4().hex, name="launch", quota=500_000, status=status)


def _shoot(page, path: str, label: str) -> None:
    response = page.goto(path)
    assert response.status == 200, path
    name = path.strip("/").replace("/", "_") or "home"
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    if label == "phone":
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than the phone"


@pytest.mark.parametrize("viewport,label", [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_screenshots_of_the_main_pages(browser, live_server, viewport, label):
    _seed()
    SCREENSHOTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=viewport, base_url=live_server.url, locale="en-US")
    page = context.new_page()
    for path in ANONYMOUS_PAGES:
        _shoot(page, path, label)
    sign_in(page, "root", "root-password")
    for path in PAGES:
        _shoot(page, path, label)
    context.close()
    zh = browser.new_context(
        viewport=viewport,
        base_url=live_server.url,
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    page = zh.new_page()
    sign_in(page, "root", "root-password")
    _shoot(page, "/dashboard", f"{label}-zh")
    _shoot(page, "/channel/new", f"{label}-zh")
    zh.close()
