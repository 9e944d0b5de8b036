"""Playwright (sync API) driving Debian's chromium against pytest-django's live server.

Never run ``playwright install``: the browser is /usr/bin/chromium. While Playwright's sync API is started,
the test thread counts as having a running event loop, so Django's async-safety check would refuse the
test's own ORM calls; the browser is therefore module-scoped (started after the test database exists, and
stopped before other test modules run) and relaxes that check only while it runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"


@pytest.fixture(scope="module")
def browser(django_db_setup, django_db_blocker):
    if not os.path.exists(CHROMIUM):
        # On a developer machine without the browser, say so; in CI a missing browser is a failure.
        message = "Debian chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield instance
            instance.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def context(browser, live_server):
    ctx = browser.new_context(viewport=DESKTOP, locale="en-US", base_url=live_server.url)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


def sign_in(page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form button.btn-primary")
    page.wait_for_url("**/dashboard")


@pytest.fixture
def fake_openai():
    """A loopback OpenAI-compatible upstream for channel tests (tests/fakes/openai.py)."""
    from tests.fakes.openai import FakeOpenAI
    from tests.fakes.server import ServerThread

    fake = FakeOpenAI()
    server = ServerThread(fake).start()
    fake.url = server.url
    yield fake
    server.stop()
