"""
The delivery ledger: which notification events of a run were delivered on which channel.

A task retry must not repeat a message that already reached people, so every send is recorded
under a key of dag, run, scope (usually the task id) and event, where every worker and the
triggerer can read it. The ledger lives in Airflow Variables, one Variable per run and scope:

- tasks in Airflow 3 cannot reach the metadata database directly, while ``Variable.get`` and
  ``Variable.set`` go through the execution API from any worker;
- a task's own XCom is cleared when the task is retried or cleared, which would erase the record;
- one Variable per scope means only one task writes it at a time, so no update is lost, because
  a task's tries and its callbacks run one after another.

The Variables stay after the run so that clearing a finished task later still finds its records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Protocol

KEY_PREFIX = "vh_notify"
_MAX_KEY_LENGTH = 250


class LedgerBackend(Protocol):
    """Storage of ledger documents by key."""

    def load(self, key: str) -> dict[str, Any]: ...

    def save(self, key: str, document: Mapping[str, Any]) -> None: ...


class VariableBackend:
    """Ledger documents stored as JSON Airflow Variables."""

    def load(self, key: str) -> dict[str, Any]:
        from airflow.sdk import Variable

        document = Variable.get(key, default=None, deserialize_json=True)
        return document if isinstance(document, dict) else {}

    def save(self, key: str, document: Mapping[str, Any]) -> None:
        from airflow.sdk import Variable

        Variable.set(key, json.dumps(document, ensure_ascii=False), description="虚拟人切换通知投递记录（自动生成）")


class MemoryBackend:
    """Ledger documents kept in a dict, for tests and code running outside a task."""

    def __init__(self) -> None:
        self.documents: dict[str, dict[str, Any]] = {}

    def load(self, key: str) -> dict[str, Any]:
        return json.loads(json.dumps(self.documents.get(key, {})))

    def save(self, key: str, document: Mapping[str, Any]) -> None:
        self.documents[key] = json.loads(json.dumps(document))


backend: LedgerBackend = VariableBackend()


def ledger_key(dag_id: str, run_id: str, scope: str) -> str:
    """Return the Variable key of one scope's ledger in one run; long keys end in a hash to fit 250 characters."""
    key = f"{KEY_PREFIX}:{dag_id}:{run_id}:{scope}"
    if len(key) <= _MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"{key[: _MAX_KEY_LENGTH - 17]}~{digest}"


def load(dag_id: str, run_id: str, scope: str) -> dict[str, Any]:
    """Return the events recorded for a scope, keyed by event name."""
    return backend.load(ledger_key(dag_id, run_id, scope))


def save(dag_id: str, run_id: str, scope: str, events: Mapping[str, Any]) -> None:
    """Store the events recorded for a scope."""
    backend.save(ledger_key(dag_id, run_id, scope), events)
