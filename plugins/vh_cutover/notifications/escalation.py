"""
Escalation of unanswered gates and failure notices, without holding a worker slot.

One deferrable task per run, ``escalate_unanswered``, watches every other task of the run. The
triggerer polls the run's task states; the task wakes on a worker only when something needs a
message or the run has otherwise ended. This was chosen over the alternatives because:

- a watcher beside each gate would add a task per gate and still miss failures;
- Airflow deadline alerts are per DAG run, not per task, and cannot see a gate waiting for input;
- a wait inside the gate's own trigger would mean replacing the HITL operator's trigger.

When a gate has waited for ``after`` since its waiting notice, its owners are reminded once;
after another ``after`` the coordinator gets a message. A task whose final failure notice went out is
treated the same way while the run is still going on. Once every other task has ended, nothing
changes without a person, so a failure still pending escalation goes to the coordinator at once
and the watcher ends instead of keeping the run open.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from asgiref.sync import sync_to_async

from airflow.sdk import BaseOperator
from airflow.triggers.base import BaseTrigger, TriggerEvent

from vh_cutover.notifications import ledger, messages
from vh_cutover.notifications.contacts import load_contacts
from vh_cutover.notifications.delivery import Scope, deliver_notification
from vh_cutover.notifications.notifiers import _ui_base_url
from vh_cutover.runtime import current_plan

log = logging.getLogger(__name__)

AFTER_SECONDS_VARIABLE = "vh_cutover_escalation_after_seconds"
TERMINAL_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
AWAITING_INPUT = "awaiting_input"
FAILED = "failed"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _run_task_states(dag_id: str, run_id: str) -> dict[str, str | None]:
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    return dict(RuntimeTaskInstance.get_task_states(dag_id=dag_id, run_ids=[run_id]).get(run_id, {}))


class UnansweredWatchTrigger(BaseTrigger):
    """
    Poll a run's task states in the triggerer; fire when the watcher has something to do.

    Fires when the set of tasks waiting for a person (gates awaiting input, failed tasks) differs
    from ``attention``, when ``wake_at`` has passed, or when every task but ``watcher_task_id``
    has ended.
    """

    def __init__(self, *, dag_id: str, run_id: str, watcher_task_id: str, attention: dict[str, str],
                 wake_at: str | None, poll_interval: float) -> None:
        super().__init__()
        self.dag_id = dag_id
        self.run_id = run_id
        self.watcher_task_id = watcher_task_id
        self.attention = attention
        self.wake_at = wake_at
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"dag_id": self.dag_id, "run_id": self.run_id, "watcher_task_id": self.watcher_task_id,
             "attention": self.attention, "wake_at": self.wake_at, "poll_interval": self.poll_interval},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        wake_at = dt.datetime.fromisoformat(self.wake_at) if self.wake_at else None
        while True:
            states = await sync_to_async(_run_task_states)(self.dag_id, self.run_id)
            others = {task_id: state for task_id, state in states.items() if task_id != self.watcher_task_id}
            attention = {task_id: state for task_id, state in others.items() if state in (AWAITING_INPUT, FAILED)}
            if attention != self.attention:
                yield TriggerEvent({"status": "changed"})
                return
            if wake_at and _utcnow() >= wake_at:
                yield TriggerEvent({"status": "due"})
                return
            if all(state in TERMINAL_STATES for state in others.values()):
                yield TriggerEvent({"status": "ended"})
                return
            await asyncio.sleep(self.poll_interval)


def _latest(events: dict[str, Any], prefix: str, *, final_only: bool = False) -> tuple[str, dict[str, Any]] | None:
    candidates = [(record.get("try_number", 0), name, record) for name, record in events.items()
                  if name.startswith(prefix) and (not final_only or record.get("final"))]
    if not candidates:
        return None
    _, name, record = max(candidates, key=lambda item: item[0])
    return name, record


class EscalateUnansweredOperator(BaseOperator):
    """
    Remind owners of unanswered gates and failures, then tell the coordinator; see the module docstring.

    The escalation time is the Airflow Variable ``vh_cutover_escalation_after_seconds`` when set,
    else ``escalation.after_minutes`` of the contacts file (30 minutes by default).
    """

    ui_color = "#f0e4f7"

    def execute(self, context: Any) -> Any:
        return self._watch(context)

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> Any:
        return self._watch(context)

    def _after_seconds(self, default_minutes: float) -> float:
        from airflow.sdk import Variable

        raw = Variable.get(AFTER_SECONDS_VARIABLE, default=None)
        try:
            return float(raw) if raw not in (None, "") else default_minutes * 60
        except ValueError:
            self.log.warning("escalation invalid_variable key=%s value=%r: using the contacts file", AFTER_SECONDS_VARIABLE, raw)
            return default_minutes * 60

    def _watch(self, context: Any) -> Any:
        ti = context["ti"]
        plan = current_plan()
        contacts = load_contacts(plan)
        after = dt.timedelta(seconds=self._after_seconds(contacts.escalation.after_minutes))
        own_scope = Scope(ti.dag_id, ti.run_id, ti.task_id)

        states = _run_task_states(ti.dag_id, ti.run_id)
        others = {task_id: state for task_id, state in states.items() if task_id != ti.task_id}
        attention = {task_id: state for task_id, state in others.items() if state in (AWAITING_INPUT, FAILED)}
        run_ended = all(state in TERMINAL_STATES for state in others.values())

        wake_times: list[dt.datetime] = []
        for task_id, state in sorted(attention.items()):
            wake = self._escalate_task(context, task_id, state, after, own_scope, run_ended)
            if wake:
                wake_times.append(wake)

        if run_ended:
            self.log.info("escalation finished reason=run_ended watched=%d", len(others))
            return {"watched": len(others)}
        self.defer(
            trigger=UnansweredWatchTrigger(
                dag_id=ti.dag_id, run_id=ti.run_id, watcher_task_id=ti.task_id, attention=attention,
                wake_at=min(wake_times).isoformat() if wake_times else None,
                poll_interval=contacts.escalation.poll_seconds,
            ),
            method_name="execute_complete",
        )

    def _escalate_task(self, context: Any, task_id: str, state: str, after: dt.timedelta, own_scope: Scope,
                       run_ended: bool) -> dt.datetime | None:
        """Send what is due for one task; return when its next stage is due, if any."""
        ti, plan = context["ti"], current_plan()
        events = ledger.load(ti.dag_id, ti.run_id, task_id)
        found = _latest(events, "gate_waiting.") if state == AWAITING_INPUT else _latest(events, "step_failed.", final_only=True)
        if not found:
            return None
        notice_name, notice = found
        kind = "gate" if state == AWAITING_INPUT else "failure"
        owners = [login for login in notice.get("logins", []) if login in plan.people]
        noticed_at = dt.datetime.fromisoformat(notice["at"])
        own_events = ledger.load(own_scope.dag_id, own_scope.run_id, own_scope.name)
        reminder_event = f"{kind}_reminder.{task_id}.{notice_name}"
        escalated_event = f"{kind}_escalated.{task_id}.{notice_name}"

        task = context["dag"].get_task(task_id) if context["dag"].has_task(task_id) else None
        title = getattr(task, "task_display_name", None) or task_id
        link = f"{_ui_base_url()}/dags/{ti.dag_id}/runs/{quote(ti.run_id, safe='')}/tasks/{task_id}"
        minutes = after.total_seconds() / 60
        now = _utcnow()

        if kind == "failure" and run_ended:
            if escalated_event not in own_events:
                subject, text = messages.failure_escalated(
                    plan, coordinator=plan.coordinator, owners=owners, task_title=title,
                    try_number=notice.get("try_number", 0), minutes=None, log_link=link)
                deliver_notification([plan.coordinator], subject, text, event=escalated_event, scope=own_scope)
            return None

        if reminder_event not in own_events:
            if now < noticed_at + after:
                return noticed_at + after
            if kind == "gate":
                subject, text = messages.gate_reminder(plan, logins=owners, gate_title=title, minutes=minutes,
                                                       link=f"{link}/required_actions")
            else:
                subject, text = messages.failure_reminder(plan, logins=owners, task_title=title, minutes=minutes,
                                                          try_number=notice.get("try_number", 0), log_link=link)
            deliver_notification(owners, subject, text, event=reminder_event, scope=own_scope)
            self.log.info("escalation reminded task_id=%s kind=%s owners=%s", task_id, kind, ",".join(owners))
            return noticed_at + 2 * after

        if escalated_event not in own_events:
            if now < noticed_at + 2 * after:
                return noticed_at + 2 * after
            if kind == "gate":
                subject, text = messages.gate_escalated(plan, coordinator=plan.coordinator, owners=owners,
                                                        gate_title=title, minutes=2 * minutes,
                                                        link=f"{link}/required_actions")
            else:
                subject, text = messages.failure_escalated(
                    plan, coordinator=plan.coordinator, owners=owners, task_title=title,
                    try_number=notice.get("try_number", 0), minutes=2 * minutes, log_link=link)
            deliver_notification([plan.coordinator], subject, text, event=escalated_event, scope=own_scope)
            self.log.info("escalation coordinator_told task_id=%s kind=%s", task_id, kind)
        return None
