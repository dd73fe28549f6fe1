"""Fixtures for notification tests: robot connections on the stand-ins, a contacts file and an in-memory ledger."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest

from vh_cutover.notifications import delivery, ledger

from notification_support import DINGTALK_SECRET, EXAMPLE_CONTACTS, FEISHU_SECRET, TOKEN


@pytest.fixture
def memory_ledger(monkeypatch: pytest.MonkeyPatch) -> ledger.MemoryBackend:
    backend = ledger.MemoryBackend()
    monkeypatch.setattr(ledger, "backend", backend)
    return backend


@pytest.fixture
def recorded_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    delays: list[float] = []
    monkeypatch.setattr(delivery, "_sleep", delays.append)
    return delays


@pytest.fixture
def robot_connection(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    def _set(conn_id: str, host: str, password: str = TOKEN, **extra: object) -> None:
        document = {"conn_type": "http", "host": host, "password": password, "extra": {"timeout": 2, **extra}}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(document))

    return _set


@pytest.fixture
def robots(rehearsal_server: str, robot_connection, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    """Point the three robot connections at the stand-ins, with signing on, and yield a control client."""
    monkeypatch.setenv("VH_REHEARSAL_TOKEN", TOKEN)
    monkeypatch.setenv("VH_REHEARSAL_CHAT_SECRET", DINGTALK_SECRET)
    monkeypatch.setenv("VH_REHEARSAL_FEISHU_SECRET", FEISHU_SECRET)
    monkeypatch.setenv("VH_CUTOVER_CONTACTS", str(EXAMPLE_CONTACTS))
    robot_connection("vh_chat", rehearsal_server + "/chat", secret=DINGTALK_SECRET)
    robot_connection("vh_wecom", rehearsal_server + "/wecom")
    robot_connection("vh_feishu", rehearsal_server + "/feishu", secret=FEISHU_SECRET)
    with httpx.Client(base_url=rehearsal_server, timeout=5) as control:
        control.post("/control/reset").raise_for_status()
        yield control
        control.delete("/control/faults").raise_for_status()
