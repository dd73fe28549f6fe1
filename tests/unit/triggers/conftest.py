"""Fixtures for trigger tests: connections, a controlled clock and the stand-ins served on loopback."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import time_machine

from vh_cutover.hooks import base as hooks_base
from vh_cutover.triggers import base as triggers_base

START = dt.datetime(2025, 5, 28, 9, 0, tzinfo=dt.timezone.utc)
FAST_RETRY_EXTRA = {"timeout": 2, "max_retries": 0, "backoff_base": 0.001, "backoff_max": 0.01}


@pytest.fixture
def set_connection(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Return a function that defines an Airflow connection through an ``AIRFLOW_CONN_*`` variable."""

    def _set(conn_id: str, host: str, password: str = "tok-trigger-tests", **extra: Any) -> None:
        document = {"conn_type": "http", "host": host, "password": password, "extra": {**FAST_RETRY_EXTRA, **extra}}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(document))

    return _set


class ControlledClock:
    """A frozen clock that moves only when a trigger sleeps between polls."""

    def __init__(self, traveller: Any) -> None:
        self.traveller = traveller
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.traveller.shift(dt.timedelta(seconds=seconds))
        # Yield to the event loop as a real sleep would.
        await asyncio.sleep(0)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[ControlledClock]:
    """Freeze time at ``START`` and make the triggers' poll sleeps advance it instead of waiting."""
    with time_machine.travel(START, tick=False) as traveller:
        controlled = ControlledClock(traveller)
        monkeypatch.setattr(triggers_base, "_sleep", controlled.sleep)

        async def _no_wait(seconds: float) -> None:
            return None

        monkeypatch.setattr(hooks_base, "_async_sleep", _no_wait)
        yield controlled


@pytest.fixture
def run_trigger() -> Callable[[Any], list[Any]]:
    """Return a function that drives ``trigger.run()`` to completion and returns every event."""

    def _run(trigger: Any) -> list[Any]:
        async def _collect() -> list[Any]:
            return [event async for event in trigger.run()]

        return asyncio.run(_collect())

    return _run


REHEARSAL_TOKEN = "rehearsal-trigger-token"

@pytest.fixture
def rehearsal(rehearsal_server: str, set_connection, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    """Reset the stand-ins, point the polled connections at them and yield a client for ``/control``."""
    monkeypatch.setenv("VH_REHEARSAL_TOKEN", REHEARSAL_TOKEN)
    set_connection("vh_ftt_prod", rehearsal_server + "/ftt/prod", REHEARSAL_TOKEN)
    set_connection("vh_release_pipeline", rehearsal_server + "/releases", REHEARSAL_TOKEN)
    set_connection("vh_ota", rehearsal_server + "/ota", REHEARSAL_TOKEN)

    with httpx.Client(base_url=rehearsal_server, timeout=5) as control:
        control.post("/control/reset").raise_for_status()
        yield control
        control.delete("/control/faults").raise_for_status()
