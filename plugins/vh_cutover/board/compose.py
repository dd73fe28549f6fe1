"""Turn a run's task instances, gate details and audit records into the board's document."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from vh_cutover.audit import OUTCOME_LABELS

STATE_LABELS: dict[str | None, str] = {
    None: "未开始",
    "scheduled": "排队中",
    "queued": "排队中",
    "running": "进行中",
    "restarting": "重启中",
    "deferred": "等待外部系统",
    "up_for_reschedule": "等待外部系统",
    "awaiting_input": "等待确认",
    "up_for_retry": "等待重试",
    "success": "完成",
    "failed": "失败",
    "upstream_failed": "上游失败",
    "skipped": "跳过",
    "removed": "已移除",
}
RUN_STATE_LABELS: dict[str, str] = {"queued": "排队中", "running": "进行中", "success": "已结束", "failed": "失败"}
ACTIVE_STATES = frozenset({"scheduled", "queued", "running", "restarting", "deferred", "up_for_reschedule",
                           "up_for_retry"})
DONE_STATES = frozenset({"success", "skipped", "removed"})


@dataclass(frozen=True)
class BoardTask:
    """A task as the board shows it: id, Chinese title and owners."""

    task_id: str
    title: str
    owner: str


@dataclass(frozen=True)
class BoardStep:
    """A top-level task group of the DAG, or a task outside any group."""

    step_id: str
    title: str
    tasks: tuple[BoardTask, ...]


def _tasks_of(node: Any) -> list[BoardTask]:
    if hasattr(node, "children"):
        return [task for child in node.topological_sort() for task in _tasks_of(child)]
    return [BoardTask(node.task_id, node.task_display_name or node.task_id, node.owner or "")]


def dag_layout(dag: Any) -> list[BoardStep]:
    """
    Return the DAG's top-level groups and loose tasks as steps, in dependency order.

    A loose task with neither upstream nor downstream tasks, such as a watcher that runs beside
    the whole cutover, comes after the steps of the chain.
    """
    chain, beside = [], []
    for node in dag.task_group.topological_sort():
        if hasattr(node, "children"):
            title = getattr(node, "group_display_name", None) or node.label
            chain.append(BoardStep(node.group_id, title, tuple(_tasks_of(node))))
        elif node.upstream_task_ids or node.downstream_task_ids:
            chain.append(BoardStep(node.task_id, node.task_display_name or node.task_id, tuple(_tasks_of(node))))
        else:
            beside.append(BoardStep(node.task_id, node.task_display_name or node.task_id, tuple(_tasks_of(node))))
    return chain + beside


def step_state(states: Iterable[str | None]) -> str | None:
    """
    Return one state for a step from its tasks' states.

    A failure, then a gate waiting for someone, outranks everything else. A step is done when
    every task is done, and skipped when every task was skipped.
    """
    states = list(states)
    for blocking in ("failed", "upstream_failed", "awaiting_input"):
        if blocking in states:
            return blocking
    if any(state in ACTIVE_STATES for state in states):
        return "running"
    if states and all(state == "skipped" for state in states):
        return "skipped"
    if states and all(state in DONE_STATES for state in states):
        return "success"
    if any(state in DONE_STATES for state in states):
        return "running"
    return None


def _owners(tasks: Iterable[BoardTask]) -> str:
    names = [name for task in tasks for name in task.owner.split(",") if name]
    return "、".join(dict.fromkeys(names))


def _people(users: Iterable[Mapping[str, Any]] | None) -> list[str]:
    return [user.get("name") or user.get("id") or "" for user in users or []]


class BoardComposer:
    """
    Build the board's document of one run.

    :param dag_id: the DAG whose run is shown.
    :param timezone: the zone in which times are shown, such as ``Asia/Shanghai``.
    :param ui_base: path (or URL) of the Airflow UI root, for links to tasks.
    """

    def __init__(self, *, dag_id: str, timezone: str, ui_base: str = "") -> None:
        self.dag_id = dag_id
        self.zone = ZoneInfo(timezone)
        self.ui_base = ui_base.rstrip("/")

    def local_time(self, value: dt.datetime | str | None) -> str | None:
        if value is None:
            return None
        moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
        return moment.astimezone(self.zone).strftime("%m-%d %H:%M:%S")

    def task_link(self, run_id: str, task_id: str, page: str = "") -> str:
        path = f"{self.ui_base}/dags/{self.dag_id}/runs/{quote(run_id, safe='')}/tasks/{task_id}"
        return f"{path}/{page}" if page else path

    def compose(self, layout: list[BoardStep], *, run: Mapping[str, Any], instances: Mapping[str, Mapping[str, Any]],
                gates: Mapping[str, Mapping[str, Any]], audits: Mapping[str, list[Mapping[str, Any]]],
                outcome: str | None = None) -> dict[str, Any]:
        """
        Return the board of one run.

        :param run: ``run_id``, ``state``, ``start_date``, ``end_date`` and ``conf`` of the run.
        :param instances: per task id, the task instance's ``state``, ``try_number``, ``start_date``
            and ``end_date``.
        :param gates: per task id of a gate, its HITL detail: ``assignees``, ``created_at``,
            ``responded_at``, ``responded_by`` and ``chosen_options``.
        :param audits: per task id, the audit records the task published.
        :param outcome: the run's outcome in words once it has one, such as ``已回滚到测试环境``;
            it replaces the run state's label.
        """
        run_id = run["run_id"]
        steps, waiting, failed = [], [], []
        done = total = 0
        for step in layout:
            rows = []
            for task in step.tasks:
                instance = instances.get(task.task_id, {})
                state = instance.get("state")
                total += 1
                done += state in DONE_STATES
                row = {
                    "task_id": task.task_id,
                    "title": task.title,
                    "owner": task.owner.replace(",", "、"),
                    "state": state,
                    "state_label": STATE_LABELS.get(state, state or ""),
                    "try_number": instance.get("try_number"),
                    "started": self.local_time(instance.get("start_date")),
                    "ended": self.local_time(instance.get("end_date")),
                    "link": self.task_link(run_id, task.task_id),
                    "gate": self._gate(gates.get(task.task_id)),
                }
                rows.append(row)
                if state == "awaiting_input" and row["gate"]:
                    waiting.append({"task_id": task.task_id, "title": task.title, "people": row["gate"]["people"],
                                    "since": row["gate"]["since"],
                                    "link": self.task_link(run_id, task.task_id, "required_actions")})
                if state == "failed":
                    failed.append({"task_id": task.task_id, "title": task.title, "owner": row["owner"],
                                   "try_number": row["try_number"], "link": self.task_link(run_id, task.task_id)})
            state = step_state(row["state"] for row in rows)
            steps.append({"step_id": step.step_id, "title": step.title, "owner": _owners(step.tasks),
                          "state": state, "state_label": STATE_LABELS.get(state, ""), "tasks": rows})

        conf = run.get("conf") or {}
        return {
            "dag_id": self.dag_id,
            "run_id": run_id,
            "run_state": run.get("state"),
            "run_state_label": outcome or RUN_STATE_LABELS.get(run.get("state"), run.get("state") or ""),
            "dry_run": bool(conf.get("dry_run")),
            "started": self.local_time(run.get("start_date")),
            "ended": self.local_time(run.get("end_date")),
            "progress": {"done": done, "total": total},
            "waiting": waiting,
            "failed": failed,
            "steps": steps,
            "changes": self._changes(layout, audits),
        }

    def _gate(self, detail: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if not detail:
            return None
        assignees = detail.get("assignees") or []
        responded_by = detail.get("responded_by")
        if responded_by:
            # The gate's own list carries display names that an auth manager's user may lack.
            responded_by = next((user for user in assignees if user.get("id") == responded_by.get("id")), responded_by)
        return {
            "people": _people(assignees),
            "since": self.local_time(detail.get("created_at")),
            "answer": "、".join(detail.get("chosen_options") or []) or None,
            "by": _people([responded_by])[0] if responded_by else None,
            "at": self.local_time(detail.get("responded_at")),
        }

    def _changes(self, layout: list[BoardStep], audits: Mapping[str, list[Mapping[str, Any]]]) -> list[dict[str, Any]]:
        titles = {task.task_id: task.title for step in layout for task in step.tasks}
        changes = []
        for task_id, records in audits.items():
            for record in records:
                changes.append({
                    "task_id": task_id,
                    "title": titles.get(task_id, task_id),
                    "system": record.get("system"),
                    "key": record.get("key"),
                    "before": record.get("before"),
                    "after": record.get("after"),
                    "actor": record.get("actor"),
                    "at": self.local_time(record.get("at")),
                    "outcome": record.get("outcome"),
                    "outcome_label": OUTCOME_LABELS.get(record.get("outcome"), record.get("outcome") or ""),
                })
        return sorted(changes, key=lambda change: change["at"] or "")
