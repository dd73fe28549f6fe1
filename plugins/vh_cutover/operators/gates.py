"""
Human gates of the cutover, with Chinese options and the step's owners as assigned users.

HITL compares ``assigned_users[*]["id"]`` with the logged-in user's id. Under the simple auth
manager that id is the login (``wangyu``). Under the FAB auth manager it is the user's numeric
database id, which exists only once the users are created. So the plan names people by login, and
the ids are resolved when the gate runs, from the Airflow Variable ``vh_hitl_user_ids``
(``{"wangyu": "2", ...}``, written by the deployment's init step); without that Variable the
login is the id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.providers.standard.operators.hitl import HITLBranchOperator, HITLOperator
from airflow.sdk import Variable

from vh_cutover.exceptions import CutoverStepError
from vh_cutover.plan.models import CutoverPlan

USER_IDS_VARIABLE = "vh_hitl_user_ids"
RESPONSE_XCOM_KEY = "response"


def assigned_users(plan: CutoverPlan, step_id: str) -> list[dict[str, str]]:
    """Return the HITL ``assigned_users`` of a step's gate by login: its owners plus the coordinator."""
    return [{"id": login, "name": plan.people[login]} for login in plan.gate_users(step_id)]


def auth_manager_user_ids() -> dict[str, str]:
    """Return ``{login: auth manager user id}`` from the Variable, or an empty mapping when it is unset."""
    mapping = Variable.get(USER_IDS_VARIABLE, default=None, deserialize_json=True)
    return {str(login): str(user_id) for login, user_id in (mapping or {}).items()}


class _AssignedByLoginMixin:
    """Translate the logins in ``assigned_users`` into the auth manager's user ids before waiting."""

    assigned_users: list[dict[str, str]] | None

    def execute(self, context: Any) -> Any:
        ids = auth_manager_user_ids()
        if ids and self.assigned_users:
            self.assigned_users = [{**user, "id": ids.get(user["id"], user["id"])} for user in self.assigned_users]
        return super().execute(context)  # type: ignore[misc]


class ApprovalGateOperator(_AssignedByLoginMixin, HITLOperator):
    """
    A gate with one option that lets the run go on and one that stops it.

    Choosing the stop option fails the task with who chose it, so the run stops before the next
    change and the failure callback notifies the step's owners.
    """

    def __init__(self, *, approve_label: str = "批准", reject_label: str = "驳回", **kwargs: Any) -> None:
        super().__init__(options=[approve_label, reject_label], multiple=False, **kwargs)
        self.approve_label = approve_label
        self.reject_label = reject_label

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        result = super().execute_complete(context=context, event=event)
        if self.reject_label in result["chosen_options"]:
            user = result.get("responded_by_user") or {}
            raise CutoverStepError(f"{user.get('name') or user.get('id') or '确认人'} 选择了“{self.reject_label}”，流程在此停止。")
        return result


class BranchGateOperator(_AssignedByLoginMixin, HITLBranchOperator):
    """
    A gate whose chosen option picks the branch the run takes.

    A branching HITL task returns only the chosen task ids, so this gate also keeps the response
    (options, responder, time) in XCom under ``response``. The rollback records the responder as
    the actor of every undo, and the summary shows the choice.
    """

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        # Pushed before branching, because the branch step ends by raising an exception.
        responded_at = event.get("responded_at")
        context["ti"].xcom_push(
            key=RESPONSE_XCOM_KEY,
            value={
                "chosen_options": list(event.get("chosen_options") or []),
                "responded_by_user": event.get("responded_by_user"),
                "responded_at": responded_at.isoformat() if isinstance(responded_at, dt.datetime) else responded_at,
            },
        )
        self.log.info("gate responded chosen=%s", event.get("chosen_options"))
        return super().execute_complete(context=context, event=event)
