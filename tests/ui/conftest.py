"""Fixtures of the browser checks: a logged-in headless chromium against the session's Airflow (tests/conftest.py)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ui_support import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "reports" / "ui"
PAGE_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator:
    """Start the Playwright driver once for the module; browsers are started per user."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser_as(airflow, playwright_driver) -> Iterator[Callable[[str, str], object]]:
    """
    Return a function that opens a path as a user and returns the logged-in page.

    Each call starts headless chromium on a new profile directory and signs in through the
    simple auth manager's own login page, as a person would.
    """
    client = airflow[0]
    contexts = []
    profiles = []

    def _open(user: str, path: str):
        profile = tempfile.mkdtemp(prefix="vh-ui-chromium-")
        profiles.append(profile)
        context = playwright_driver.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            locale="zh-CN", viewport={"width": 1400, "height": 900},
        )
        contexts.append(context)
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        page = context.new_page()

        page.goto(f"{client.base_url}{path}")
        page.wait_for_url("**/auth/login**")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", client.passwords[user])
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/auth/login" not in url)
        return page

    yield _open

    for context in contexts:
        context.close()
    for profile in profiles:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def screenshot() -> Callable[[object, str], Path]:
    """Return a function that saves a full-page screenshot under ``reports/ui``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def _save(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _save
