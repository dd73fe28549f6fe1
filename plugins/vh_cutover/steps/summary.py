"""The run's summary: every audit record, the gates' responses and the final state."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from airflow.providers.standard.operators.hitl import HITLOperator

from vh_cutover.audit import AUDIT_XCOM_KEY
from vh_cutover.operators.change import CutoverChangeOperator
from vh_cutover.operators.release import BackendReleaseOperator
from vh_cutover.operators.gates import RESPONSE_XCOM_KEY
from vh_cutover.plan.models import CutoverPlan
from vh_cutover.runtime import person_label, run_settings

ROLLBACK_OPTION = "回滚到测试环境"


def local_time(value: Any, plan: CutoverPlan) -> str:
    """Format a UTC time (datetime or ISO string) in the plan's timezone, to the second."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(ZoneInfo(plan.timezone)).strftime("%m-%d %H:%M:%S")


def _pull(ti: Any, task_id: str, key: str = "return_value") -> Any:
    return ti.xcom_pull(task_ids=task_id, key=key)


def collect(context: Any, plan: CutoverPlan) -> dict[str, Any]:
    """
    Collect the audit records of every changing task and the responses to every gate of this run.

    Tasks are found by type on the DAG, so a new changing step shows up here without a list to
    keep in sync.
    """
    dag, ti = context["dag"], context["ti"]
    records: list[dict[str, Any]] = []
    timeline: list[str] = []
    rolled_back = False

    for task in dag.tasks:
        if isinstance(task, CutoverChangeOperator | BackendReleaseOperator):
            records.extend(_pull(ti, task.task_id, AUDIT_XCOM_KEY) or [])
        elif isinstance(task, HITLOperator):
            answer = _pull(ti, task.task_id)
            if not isinstance(answer, dict):
                # A branching gate returns the chosen task ids and keeps its response under another key.
                answer = _pull(ti, task.task_id, RESPONSE_XCOM_KEY)
            if isinstance(answer, dict) and answer.get("chosen_options"):
                user = answer.get("responded_by_user") or {}
                timeline.append(
                    f"{local_time(answer.get('responded_at'), plan)} {task.task_display_name}："
                    f"{person_label(user.get('id'), user.get('name'))} 选择“{'、'.join(answer['chosen_options'])}”"
                )
                rolled_back = rolled_back or ROLLBACK_OPTION in answer["chosen_options"]

    upgrade = _pull(ti, "ftt_upgrade.wait_for_ftt_upgrade")
    if isinstance(upgrade, dict):
        finished = local_time(upgrade.get("finished_at"), plan) if upgrade.get("finished_at") else "运行开始前"
        timeline.append(f"{finished} FTT生产环境升级到 {upgrade.get('version')}")
    for record in records:
        if record["outcome"] in ("changed", "applied_by_earlier_try", "dry_run"):
            verb = "将修改（演练）" if record["outcome"] == "dry_run" else "修改"
            timeline.append(f"{local_time(record['at'], plan)} {record['system']} {record['key']} 由 {record['actor']} {verb}")
    timeline.sort()

    if run_settings(context).dry_run:
        state = "演练完成（未修改任何系统）"
    elif rolled_back:
        state = "已回滚到测试环境"
    else:
        state = "切换完成"
    changed = sum(1 for record in records if record["outcome"] in ("changed", "applied_by_earlier_try"))
    return {"state": state, "records": records, "timeline": timeline, "changes": changed,
            "planned": {"ftt_upgrade_day": plan.dates.ftt_upgrade_day.isoformat(),
                        "app_release": plan.dates.app_release.isoformat(),
                        "device_release": plan.dates.device_release.isoformat()}}
