"""Task context helpers: the plan, the run's settings, the change key and the approving person."""

from __future__ import annotations

import functools
from typing import Any

from vh_cutover.operators.gates import RESPONSE_XCOM_KEY, auth_manager_user_ids
from vh_cutover.params import RunSettings, resolve_run_settings
from vh_cutover.plan import CutoverPlan, load_plan

DAG_ACTOR = "DAG"


@functools.cache
def current_plan() -> CutoverPlan:
    """Return the plan this process uses, loaded once."""
    return load_plan()


def run_settings(context: Any) -> RunSettings:
    """Validate the run's parameters; raises CutoverParamsError before any write."""
    return resolve_run_settings(current_plan(), context["params"])


def change_key(context: Any) -> str:
    """Return the key that marks writes of this task in this run, the same on every try."""
    ti = context["ti"]
    return f"{ti.dag_id}/{ti.run_id}/{ti.task_id}"


def gate_responder(context: Any, gate_task_id: str | None) -> str:
    """
    Return who allowed a change: the person who responded to the gate, else the DAG itself.

    The gate's XCom is the HITL operator's return value, which carries ``responded_by_user``; a
    branching gate returns task ids instead and keeps its response under the XCom key ``response``.
    """
    if not gate_task_id:
        return DAG_ACTOR
    response = context["ti"].xcom_pull(task_ids=gate_task_id)
    if not isinstance(response, dict):
        response = context["ti"].xcom_pull(task_ids=gate_task_id, key=RESPONSE_XCOM_KEY)
    if not isinstance(response, dict):
        return DAG_ACTOR
    user = response.get("responded_by_user") or {}
    return person_label(user.get("id"), user.get("name"))


def person_label(login: str | None, name: str | None = None) -> str:
    """Return ``王宇（wangyu）`` for a login of the plan, else whatever identifies the user."""
    people = current_plan().people
    if login and login not in people:
        logins_by_id = {user_id: person for person, user_id in auth_manager_user_ids().items()}
        login = logins_by_id.get(login, login)
    if login in people:
        return f"{people[login]}（{login}）"
    return name or login or DAG_ACTOR
