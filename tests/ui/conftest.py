"""
Fixtures of the browser checks: the end-to-end suite's Airflow standalone and a logged-in chromium.

The Airflow fixtures are the ones in ``tests/e2e/conftest.py``, loaded from that file and
registered again here with module scope. Module scope stops this folder's Airflow as soon as its
tests end, and ``pytest_collection_modifyitems`` runs this folder before ``tests/e2e``, so the
two Airflow instances never run at the same time (the test machines have two cores).
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from ui_support import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
UI_DIR = Path(__file__).resolve().parent
E2E_DIR = ROOT / "tests" / "e2e"
SCREENSHOTS = ROOT / "reports" / "ui"
PAGE_TIMEOUT_MS = 30_000


def _load_e2e_conftest() -> ModuleType:
    spec = importlib.util.spec_from_file_location("vh_e2e_fixtures", E2E_DIR / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _module_scoped(module: ModuleType, name: str):
    fixture = getattr(module, name, None)
    if fixture is None:
        return None
    return pytest.fixture(scope="module", name=name)(fixture.__wrapped__)


_E2E = _load_e2e_conftest()
airflow_server = _module_scoped(_E2E, "airflow_server")
airflow = _module_scoped(_E2E, "airflow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run this folder's tests right before the end-to-end tests, so its Airflow stops first."""
    ui_items = [item for item in items if UI_DIR in item.path.parents]
    if not ui_items:
        return
    others = [item for item in items if UI_DIR not in item.path.parents]
    first_e2e = next((index for index, item in enumerate(others) if E2E_DIR in item.path.parents), len(others))
    items[:] = others[:first_e2e] + ui_items + others[first_e2e:]


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
