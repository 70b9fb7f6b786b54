"""Browser fixtures: one headless system Chromium per session, a fresh context per test.

Playwright's sync API runs an event loop in this thread, which makes Django refuse ORM calls
from it ("async unsafe"); the test thread only sets up data, so that guard is switched off here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from pytest_django.live_server_helper import LiveServer

from tests.factories import PASSWORD

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 10_000
# Unless JavaScript is off: until app.js marks a page ready (htmx has processed it), a page
# that loads app.js is hidden, so that every action and visibility check waits for it: a select
# changed or a button clicked before htmx attached its handlers would do nothing, and the test
# would fail now and then.
UNTIL_READY = """
(() => {
  const sheet = new CSSStyleSheet();  // constructed: the page's style-src does not refuse it
  sheet.replaceSync(
    "html:not([data-ready]):has(script[src*='/js/app.js']) body { visibility: hidden !important; }"
  );
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
})();
"""

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package for browser tests")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, timeout=30_000
        )
        yield browser
        browser.close()


NewContext = Callable[..., BrowserContext]


@pytest.fixture
def new_context(browser: Browser, live_server: LiveServer) -> Iterator[NewContext]:
    """Return a function opening a fresh browser context (its own cookies) on the live server."""
    contexts: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        context = browser.new_context(base_url=live_server.url, **options)
        if options.get("java_script_enabled", True):
            context.add_init_script(script=UNTIL_READY)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context: NewContext) -> Page:
    return new_context().new_page()


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Log in through the real login form and wait for the start page."""
    page.goto(reverse("login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("user-email")).to_have_text(email)
