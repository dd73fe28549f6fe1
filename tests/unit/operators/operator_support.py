"""Helpers shared by the operator tests (named uniquely so that no other test folder's module shadows it)."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx

REHEARSAL_TOKEN = "rehearsal-operator-token"
DAG_ID = "vh_cutover_528"
RUN_ID = "manual__2024-05-28T01:00:00+00:00"


@dataclasses.dataclass
class TaskInstanceStub:
    """The part of a running task instance that the operators use: ids, try number and XCom."""

    task_id: str
    try_number: int = 1
    dag_id: str = DAG_ID
    run_id: str = RUN_ID
    map_index: int = -1
    xcoms: dict[tuple[str, str], Any] = dataclasses.field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[(self.task_id, key)] = value

    def xcom_pull(self, task_ids: str | None = None, key: str = "return_value", **_: Any) -> Any:
        return self.xcoms.get((task_ids or self.task_id, key))


def writes(control: httpx.Client, system: str | None = None) -> list[dict[str, Any]]:
    """Return the stand-ins' write log, optionally of one system."""
    params = {"system": system} if system else {}
    return control.get("/control/writes", params=params).raise_for_status().json()["writes"]


def audit_of(context: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the audit records a try pushed to XCom."""
    return context["ti"].xcom_pull(key="audit")
