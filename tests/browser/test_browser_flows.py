"""The console's main journeys in a real browser."""

from __future__ import annotations

import time

import pytest

from accounts.models import Role, Token, User
from accounts.services import user_create
from channels_app.models import Channel
from logs_app.models import Log
from redeem.models import Redemption
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_then_sign_out_and_back_in(page):
    page.goto("/register")
    page.fill("#id_username", "carol")
    page.fill("#id_password", "carol-password")
    page.fill("#id_password2", "carol-password")
    page.click("form button.btn-primary")
    page.wait_for_url("**/dashboard")
    assert "Welcome, carol!" in page.content()
    page.click("form.logout button")
    page.wait_for_url("**/login")
    sign_in(page, "carol", "carol-password")
    assert page.locator("[data-testid=quota]").inner_text() == "$0.00"


def test_a_wrong_password_shows_the_error(page, transactional_db):
    user_create(username="alice", password="alice-password")
    page.goto("/login")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "nope-nope")
    page.click("form button.btn-primary")
    assert (
        page.locator(".alert-danger").inner_text()
        == "Wrong username or password, or the account is disabled."
    )


def test_create_a_key_and_copy_it(page, transactional_db):
    alice = user_create(username="alice", password="alice-password")
    sign_in(page, "alice", "alice-password")
    page.goto("/token/new")
    page.fill("#id_name", "laptop")
    page.click("#id_unlimited_quota")
    assert page.locator("#id_remain_quota").is_disabled()
    page.fill("#id_subnet", "10.0.0.0/8")
    page.click("form button.btn-primary")
    page.wait_for_url("**/token")
    key = Token.objects.get(user=alice, name="laptop").key
    row = page.locator("tr", has_text="laptop")
    row.get_by_role("button", name="Copy").click()
    page.wait_for_selector(f'[data-copied="sk-{key}"]')
    assert page.evaluate("navigator.clipboard.readText()") == f"sk-{key}"
    assert page.locator("#toast").inner_text() == "Copied!"


def test_redeem_a_code(page, transactional_db):
    user_create(username="alice", password="alice-password")
    Redemption.objects.create(key="f" * 32, name="gift", quota=1_000_000)
    sign_in(page, "alice", "alice-password")
    page.goto("/topup")
    page.fill("#id_key", "f" * 32)
    page.click("form button.btn-primary")
    assert "Redeemed: $2.00 added to your balance." in page.locator(".alert-success").inner_text()
    assert page.locator("[data-testid=balance]").inner_text() == "$2.00"


def test_admin_creates_a_channel_and_tests_it(page, transactional_db, fake_openai):
    user_create(username="admin", password="admin-password", role=Role.ADMIN)
    fake_openai.plan("sk-upstream", content="gpt-4o-mini")
    sign_in(page, "admin", "admin-password")
    page.goto("/channel/new")
    page.select_option("#id_type", "1")
    page.fill("#id_name", "fake openai")
    page.fill("#id_base_url", fake_openai.url)
    page.fill("#id_key", "sk-upstream")
    page.click("#fill-models")
    assert "gpt-4o-mini" in page.input_value("#id_models")
    page.fill("#id_models", "gpt-4o-mini")
    page.click("form#channel-form button.btn-primary")
    page.wait_for_url("**/channel")
    channel = Channel.objects.get(name="fake openai")
    page.locator(f"#channel-{channel.pk}").get_by_role("button", name="Test").click()
    message = page.locator(".messages .alert").inner_text()
    # The relay's channel_test is installed, so the button really calls the (fake) upstream.
    assert message.startswith("“fake openai” answered with gpt-4o-mini in "), message
    assert fake_openai.requests and fake_openai.requests[-1].path == "/v1/chat/completions"
    channel.refresh_from_db()
    assert channel.test_time > 0


def test_filter_the_logs(page, transactional_db):
    alice = user_create(username="alice", password="alice-password")
    now = int(time.time())
    for n, model in enumerate(["gpt-4o", "claude-3-haiku", "gpt-4o"]):
        Log.objects.create(
            user_id=alice.pk,
            username="alice",
            type=2,
            model_name=model,
            quota=500_000,
            created_at=now - n,
            content=f"line-{n}",
        )
    sign_in(page, "alice", "alice-password")
    page.goto("/log")
    assert page.locator("table.logs tbody tr").count() == 3
    page.fill("#id_model_name", "gpt-4o")
    page.click("#log-filters button.btn-primary")
    page.wait_for_url("**/log?*")
    assert page.locator("table.logs tbody tr").count() == 2
    page.get_by_role("button", name="Show totals").click()
    assert "$2.00" in page.locator("[data-testid=totals]").inner_text()


def test_the_phone_menu_opens(browser, live_server, transactional_db):
    user_create(username="alice", password="alice-password")
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=live_server.url)
    page = context.new_page()
    sign_in(page, "alice", "alice-password")
    menu_link = page.locator("nav.nav a[href='/token']")
    assert not menu_link.is_visible()
    page.click("label.nav-burger")
    menu_link.click()
    page.wait_for_url("**/token")
    context.close()


def test_users_cannot_reach_admin_pages(page, transactional_db):
    user_create(username="alice", password="alice-password")
    sign_in(page, "alice", "alice-password")
    assert page.goto("/channel").status == 403
    assert "Not allowed" in page.content()
    assert User.objects.count() == 1
