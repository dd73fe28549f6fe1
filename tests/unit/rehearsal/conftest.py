"""Fixtures for the rehearsal stand-in tests: a fresh state file per test and an authenticated client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rehearsal_support import AUTH_HEADERS, CUTOVER_MORNING
from vh_cutover.rehearsal.app import create_app


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("VH_REHEARSAL", "VH_REHEARSAL_DB", "VH_REHEARSAL_TOKEN", "VH_REHEARSAL_CHAT_SECRET"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def db_path(tmp_path) -> str:
    return str(tmp_path / "rehearsal.sqlite3")


@pytest.fixture
def app(db_path: str) -> FastAPI:
    return create_app(db_path)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, headers=AUTH_HEADERS) as test_client:
        yield test_client


@pytest.fixture
def frozen_clock() -> Iterator[time_machine.Coordinates]:
    """Freeze the clock at 08:00 UTC on the cutover day; ``shift()`` moves it."""
    with time_machine.travel(CUTOVER_MORNING, tick=False) as traveller:
        yield traveller

