"""
Fixtures for operator tests: every ``vh_*`` connection pointed at the stand-ins and a minimal task context.

The operators run in this process, without an Airflow server: ``execute`` and
``execute_complete`` are called directly with a context that holds only what they read.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from operator_support import REHEARSAL_TOKEN, RUN_ID, TaskInstanceStub
from vh_cutover.hooks import base as hooks_base
from vh_cutover.params import build_params
from vh_cutover.plan.loader import PROJECT_ROOT
from vh_cutover.runtime import current_plan
from vh_cutover.triggers import base as triggers_base

# No retries inside the hooks: a fault reaches the operator at once, so each test has one outcome.
FAST_RETRY_EXTRA = {"timeout": 2, "max_retries": 0, "backoff_base": 0.001, "backoff_max": 0.01}
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
def rehearsal(rehearsal_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    """
    Reset the stand-ins, point every ``vh_*`` connection at them and yield a client for ``/control``.

    The stand-ins accept only ``REHEARSAL_TOKEN`` while the fixture is active, and chat messages
    mention people from the example contacts file.
    """
    monkeypatch.setenv("VH_REHEARSAL_TOKEN", REHEARSAL_TOKEN)
    monkeypatch.delenv("VH_REHEARSAL_CHAT_SECRET", raising=False)
    monkeypatch.setenv("VH_CUTOVER_CONTACTS", str(PROJECT_ROOT / "config" / "contacts.example.yaml"))
    for conn_id, prefix in REHEARSAL_PREFIXES.items():
        document = {"conn_type": "http", "host": rehearsal_server + prefix, "password": REHEARSAL_TOKEN,
                    "extra": FAST_RETRY_EXTRA}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(document))

    async def _no_wait(seconds: float) -> None:
        return None

    monkeypatch.setattr(hooks_base, "_sleep", lambda seconds: None)
    monkeypatch.setattr(hooks_base, "_async_sleep", _no_wait)

    with httpx.Client(base_url=rehearsal_server, timeout=10) as control:
        control.post("/control/reset").raise_for_status()
        yield control
        control.delete("/control/faults").raise_for_status()


@pytest.fixture
def make_context() -> Callable[..., dict[str, Any]]:
    """
    Return a function that builds the context of one try of an operator.

    ``xcoms`` maps ``(task_id, key)`` to the XCom of upstream tasks, such as a gate's response.
    """

    def _make(operator: Any, *, params: dict[str, Any] | None = None, try_number: int = 1,
              xcoms: dict[tuple[str, str], Any] | None = None) -> dict[str, Any]:
        ti = TaskInstanceStub(task_id=operator.task_id, try_number=try_number, xcoms=dict(xcoms or {}))
        # Airflow puts every DAG param into the context, with the trigger form's values over the defaults.
        run_params = {name: param.value for name, param in build_params(current_plan()).items()}
        run_params.update(params or {})
        return {"ti": ti, "task_instance": ti, "task": operator, "params": run_params, "run_id": RUN_ID}

    return _make


@pytest.fixture
def run_trigger(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any], list[Any]]:
    """Return a function that drives a trigger to its event; poll sleeps yield to the loop without waiting."""

    async def _short_sleep(seconds: float) -> None:
        # Polls stay real HTTP requests, but a test never waits a whole poll interval.
        await asyncio.sleep(min(seconds, 0.05))

    monkeypatch.setattr(triggers_base, "_sleep", _short_sleep)

    def _run(trigger: Any) -> list[Any]:
        async def _collect() -> list[Any]:
            return [event.payload async for event in trigger.run()]

        return asyncio.run(asyncio.wait_for(_collect(), timeout=30))

    return _run
