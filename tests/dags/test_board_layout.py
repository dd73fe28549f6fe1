"""The board's layout of the cutover DAG, read from the DAG as the api-server stores it (serialized)."""

from __future__ import annotations

import re

from vh_cutover.board.app import CUTOVER_DAG_ID
from vh_cutover.board.compose import dag_layout
from vh_cutover.board.queries import timezone_name

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _serialized(dagbag):
    from airflow.serialization.serialized_objects import DagSerialization

    dag = dagbag.dags[CUTOVER_DAG_ID]
    return dag, DagSerialization.from_dict(DagSerialization.to_dict(dag))


def test_layout_covers_every_task_once(dagbag):
    dag, serialized = _serialized(dagbag)

    task_ids = [task.task_id for step in dag_layout(serialized) for task in step.tasks]

    assert sorted(task_ids) == sorted(dag.task_ids)


def test_layout_follows_the_plan_order(dagbag):
    _, serialized = _serialized(dagbag)

    steps = [step.step_id for step in dag_layout(serialized)]

    assert steps.index("preflight") < steps.index("app_gray_rule") < steps.index("ftt_upgrade")
    assert steps.index("ftt_upgrade") < steps.index("verification") < steps.index("reclaim")
    assert steps[:3] == ["preflight", "app_gray_rule", "ftt_upgrade"]
    assert steps[-2:] == ["send_summary", "escalate_unanswered"]
    preflight = next(step for step in dag_layout(serialized) if step.step_id == "preflight")
    assert preflight.tasks[0].task_id == "preflight.validate_params"


def test_board_times_in_plan_timezone(dagbag):
    _, serialized = _serialized(dagbag)

    assert timezone_name(serialized) == "Asia/Shanghai"


def test_layout_titles_and_owners_are_chinese(dagbag):
    _, serialized = _serialized(dagbag)

    for step in dag_layout(serialized):
        assert CHINESE.search(step.title), step
        for task in step.tasks:
            assert CHINESE.search(task.title), task
            assert CHINESE.search(task.owner), task
