"""Fixtures for hook tests: connections, recorded retry waits and the stand-ins served on loopback."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
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


REHEARSAL_TOKEN = "rehearsal-hooks-token"
# Connection id and URL prefix of every stand-in system.
REHEARSAL_PREFIXES = {
    "vh_ftt_test": "/ftt/test",
    "vh_ftt_prod": "/ftt/prod",
    "vh_gray_rules": "/gray-rules",
    "vh_remote_config": "/remote-config",
    "vh_release_pipeline": "/releases",
    "vh_device_fleet": "/fleet",
    "vh_ota": "/ota",
    "vh_chat": "/chat",
}

@pytest.fixture
def rehearsal(rehearsal_server: str, set_connection, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    """
    Reset the stand-ins, point every ``vh_*`` connection at them and yield a client for ``/control``.

    The stand-ins accept only ``REHEARSAL_TOKEN`` while the fixture is active.
    """
    monkeypatch.setenv("VH_REHEARSAL_TOKEN", REHEARSAL_TOKEN)
    monkeypatch.delenv("VH_REHEARSAL_CHAT_SECRET", raising=False)
    for conn_id, prefix in REHEARSAL_PREFIXES.items():
        set_connection(conn_id, rehearsal_server + prefix, REHEARSAL_TOKEN)

    with httpx.Client(base_url=rehearsal_server, timeout=5) as control:
        control.post("/control/reset").raise_for_status()
        yield control
        control.delete("/control/faults").raise_for_status()
