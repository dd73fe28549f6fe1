"""Human gates of the cutover, with Chinese options and the step's owners as assigned users."""

from __future__ import annotations

from typing import Any

from airflow.providers.standard.operators.hitl import HITLOperator

from vh_cutover.exceptions import CutoverStepError
from vh_cutover.plan.models import CutoverPlan


def assigned_users(plan: CutoverPlan, step_id: str) -> list[dict[str, str]]:
    """Return the HITL ``assigned_users`` of a step's gate: its owners plus the coordinator."""
    return [{"id": login, "name": plan.people[login]} for login in plan.gate_users(step_id)]


class ApprovalGateOperator(HITLOperator):
    """
    A gate with one option that lets the run go on and one that stops it.

    Choosing the stop option fails the task with who chose it, so the run stops before the next
    change and the step's owners are told through the failure callback.
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
