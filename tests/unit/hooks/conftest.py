"""Fixtures for hook tests: connections from environment variables and recorded retry waits."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from vh_cutover.hooks import base as hooks_base

# Tiny backoff so retry tests run fast; the recorded delays are what the tests check.
FAST_RETRY_EXTRA = {"timeout": 2, "max_retries": 2, "backoff_base": 0.01, "backoff_max": 0.05}


@pytest.fixture
def set_connection(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Return a function that defines an Airflow connection through an ``AIRFLOW_CONN_*`` variable."""

    def _set(conn_id: str, host: str | None, password: str | None, **fields: Any) -> None:
        extra = {**FAST_RETRY_EXTRA, **fields.pop("extra", {})}
        document = {"conn_type": "http", "host": host, "password": password, "extra": extra, **fields}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(document))

    return _set


@pytest.fixture
def recorded_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Replace the waits between retries with a recorder and return the recorded delays."""
    delays: list[float] = []

    def _record(seconds: float) -> None:
        delays.append(seconds)

    async def _arecord(seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr(hooks_base, "_sleep", _record)
    monkeypatch.setattr(hooks_base, "_async_sleep", _arecord)
    return delays
