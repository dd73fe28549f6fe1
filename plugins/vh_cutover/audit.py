"""Audit records of the changes a run makes (or would make) to outside systems."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from typing import Any, Literal

log = logging.getLogger(__name__)

AUDIT_XCOM_KEY = "audit"
Outcome = Literal["changed", "no_change", "dry_run", "applied_by_earlier_try"]
OUTCOME_LABELS: dict[str, str] = {
    "changed": "已修改",
    "no_change": "无需修改",
    "dry_run": "演练：将修改",
    "applied_by_earlier_try": "已修改（由之前的尝试写入）",
}


@dataclasses.dataclass(frozen=True)
class AuditRecord:
    """One change (or non-change) of one key of one outside system, by one task try."""

    run_id: str
    task_id: str
    try_number: int
    system: str
    key: str
    before: Any
    after: Any
    actor: str
    outcome: Outcome
    at: str
    note: str | None = None

    @classmethod
    def create(cls, context: Any, *, system: str, key: str, before: Any, after: Any, actor: str,
               outcome: Outcome, note: str | None = None) -> AuditRecord:
        """Build a record stamped with the task instance of ``context`` and the current UTC time."""
        ti = context["ti"]
        return cls(
            run_id=ti.run_id,
            task_id=ti.task_id,
            try_number=ti.try_number,
            system=system,
            key=key,
            before=before,
            after=after,
            actor=actor,
            outcome=outcome,
            at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            note=note,
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def publish(context: Any, records: list[AuditRecord]) -> list[dict[str, Any]]:
    """Log the records, push them to XCom under ``audit`` and return them as dicts."""
    payload = [record.to_dict() for record in records]
    for record in records:
        log.info(
            "audit run_id=%s task_id=%s try=%s system=%s key=%s outcome=%s actor=%s before=%s after=%s at=%s note=%s",
            record.run_id,
            record.task_id,
            record.try_number,
            record.system,
            record.key,
            record.outcome,
            record.actor,
            json.dumps(record.before, ensure_ascii=False, sort_keys=True),
            json.dumps(record.after, ensure_ascii=False, sort_keys=True),
            record.at,
            record.note or "-",
        )
    context["ti"].xcom_push(key=AUDIT_XCOM_KEY, value=payload)
    return payload
