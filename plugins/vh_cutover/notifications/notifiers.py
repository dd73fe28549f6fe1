"""
Notifiers for task callbacks and HITL gates: a step started, a gate is waiting, a step failed, a
window passed. Each names its event so that a retried task does not repeat a delivered message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from airflow.sdk import BaseNotifier

from vh_cutover.notifications import messages
from vh_cutover.notifications.delivery import Scope, deliver_notification
from vh_cutover.runtime import current_plan


def _ui_base_url() -> str:
    from airflow.configuration import conf

    return (conf.get("api", "base_url", fallback="") or "http://localhost:8080").rstrip("/")


def task_link(context: Any, page: str = "") -> str:
    """Return the UI address of the context's task instance, optionally of one of its pages."""
    ti = context["ti"]
    path = f"/dags/{ti.dag_id}/runs/{quote(ti.run_id, safe='')}/tasks/{ti.task_id}"
    return f"{_ui_base_url()}{path}{'/' + page if page else ''}"


def _task_title(context: Any) -> str:
    task = context["task"]
    return getattr(task, "task_display_name", None) or task.task_id


class GateWaitingNotifier(BaseNotifier):
    """Tell a gate's assigned users that it waits for them, with a link to its Required Actions page."""

    def __init__(self, *, logins: Sequence[str]) -> None:
        super().__init__()
        self.logins = list(logins)

    def notify(self, context: Any) -> None:
        title, text = messages.gate_waiting(
            current_plan(), logins=self.logins, gate_title=_task_title(context),
            link=task_link(context, "required_actions"),
        )
        # Each try of a gate requests a new response, so each try is its own event.
        try_number = context["ti"].try_number
        deliver_notification(self.logins, title, text, event=f"gate_waiting.try{try_number}",
                             scope=Scope.of_task(context), extra={"try_number": try_number})


class StepFailedNotifier(BaseNotifier):
    """Tell a step's owners that a try of their task failed, and whether it will retry."""

    def __init__(self, *, logins: Sequence[str], retrying: bool = False) -> None:
        super().__init__()
        self.logins = list(logins)
        self.retrying = retrying

    def notify(self, context: Any) -> None:
        error = context.get("exception")
        if error is None:
            reason = "未知原因"
        elif str(error):
            reason = str(error).splitlines()[0]
        else:
            reason = type(error).__name__
        ti = context["ti"]
        title, text = messages.step_failed(
            current_plan(), logins=self.logins, task_title=_task_title(context), reason=reason,
            try_number=ti.try_number, will_retry=self.retrying, log_link=task_link(context),
        )
        deliver_notification(self.logins, title, text, event=f"step_failed.try{ti.try_number}",
                             scope=Scope.of_task(context),
                             extra={"try_number": ti.try_number, "final": not self.retrying})


class FttWindowExceededNotifier(BaseNotifier):
    """Tell the FTT step's owners and the coordinator that the upgrade window has passed."""

    def __init__(self, *, logins: Sequence[str], window_hours_param: str = "ftt_upgrade_window_hours") -> None:
        super().__init__()
        self.logins = list(logins)
        self.window_hours_param = window_hours_param

    def notify(self, context: Any) -> None:
        title, text = messages.ftt_window_exceeded(
            current_plan(), logins=self.logins, window_hours=float(context["params"][self.window_hours_param]),
            state=context.get("ftt_upgrade_state") or {},
        )
        deliver_notification(self.logins, title, text, event="ftt_window_exceeded", scope=Scope.of_task(context))


class StepStartedNotifier(BaseNotifier):
    """
    Tell a step's owners that their step started, once per run, whichever of its tasks starts first.

    The ledger scope is the step, not the task, so the step's later tasks and retries find the record.
    """

    def __init__(self, *, step_id: str, logins: Sequence[str]) -> None:
        super().__init__()
        self.step_id = step_id
        self.logins = list(logins)

    def notify(self, context: Any) -> None:
        plan = current_plan()
        title, text = messages.step_started(
            plan, logins=self.logins, step_title=plan.steps[self.step_id].title,
            task_title=_task_title(context), link=task_link(context),
        )
        ti = context["ti"]
        deliver_notification(self.logins, title, text, event="step_started",
                             scope=Scope(ti.dag_id, ti.run_id, f"step:{self.step_id}"))
