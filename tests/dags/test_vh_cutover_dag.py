"""
Integrity of the cutover DAG: it loads, reads in Chinese, follows the plan's owners and order,
and parsing it reaches no connection, variable or network.

The structural tests share one in-process parse (the module-scoped ``dagbag`` fixture). The
isolation test parses again in a fresh process (``parse_probe.py``), because modules already
imported by other tests would hide work done at import time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk.definitions.timetables.simple import NullTimetable

from dag_support import DAG_FOLDER, ROOT, dag_environment, record_parse_figure
from vh_cutover.plan import load_plan

DAG_ID = "vh_cutover_528"
PROBE = Path(__file__).with_name("parse_probe.py")
CJK = re.compile(r"[\u4e00-\u9fff]")
# A sanity bound only: the benchmark (bench/run.py) measures parse time against its target.
PARSE_SECONDS_BOUND = 30.0
PROBE_TIMEOUT_SECONDS = 120

# The plan step that owns each task group, or each task outside a group.
STEP_OF_GROUP = {
    "preflight": "preflight",
    "app_gray_rule": "gray_rule",
    "ftt_upgrade": "ftt_upgrade",
    "wandechu_app": "app_switch",
    "wandechu_2_0": "device_switch",
    "backend": "backend_release",
    "shadow_world": "pta_switch",
    "verification": "verify",
    "reclaim": "reclaim",
    "device_prompt": "device_prompt",
    "record_no_migration": "no_migration",
    "send_summary": "summary",
    "escalate_unanswered": "summary",
}
# Rollback tasks belong to the step whose change they undo.
STEP_OF_TASK = {
    "rollback.start_rollback": "verify",
    "rollback.announce_rollback": "verify",
    "rollback.rollback_app_domain": "app_switch",
    "rollback.rollback_device_domain": "device_switch",
    "rollback.rollback_pta_backend": "pta_switch",
    "rollback.rollback_backend": "backend_release",
}
GATE_STEPS = {
    "ftt_upgrade.confirm_ftt_upgrade": "ftt_upgrade",
    "verification.sign_off": "verify",
    "reclaim.approve_reclaim": "reclaim",
}
SWITCH_GROUPS = ("wandechu_app", "wandechu_2_0", "backend", "shadow_world")
# Tasks that watch the whole run from its start, so they are neither before nor after the summary.
WATCHERS = {"escalate_unanswered"}


def _step_of(task_id: str) -> str | None:
    if task_id in STEP_OF_TASK:
        return STEP_OF_TASK[task_id]
    return STEP_OF_GROUP.get(task_id.split(".", 1)[0])


def _tasks_in(dag, group: str) -> list[str]:
    found = [task_id for task_id in dag.task_ids if task_id.startswith(f"{group}.")]
    assert found, f"task group {group!r} has no tasks"
    return found


def _ancestors(dag, task_id: str) -> set[str]:
    return dag.get_task(task_id).get_flat_relative_ids(upstream=True)


def _missing_ancestors(dag, task_ids: list[str], required: list[str]) -> dict[str, list[str]]:
    """Return, per task, the required tasks that do not run before it."""
    missing = {}
    for task_id in task_ids:
        absent = sorted(set(required) - _ancestors(dag, task_id))
        if absent:
            missing[task_id] = absent
    return missing


def _probe(dag_folder: Path, tmp_path: Path, extra_env: dict[str, str]) -> dict:
    """Parse ``dag_folder`` with ``parse_probe.py`` in a fresh interpreter and return its result."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
    env.update(dag_environment())
    env.update(extra_env)
    env["AIRFLOW_HOME"] = str(tmp_path / "airflow_home")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "plugins"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    output = tmp_path / "probe.json"

    completed = subprocess.run(
        [sys.executable, str(PROBE), str(dag_folder), str(output)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=PROBE_TIMEOUT_SECONDS,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    return json.loads(output.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def plan():
    return load_plan()


@pytest.fixture(scope="module")
def dag(dagbag):
    assert DAG_ID in dagbag.dags, f"{DAG_ID} not loaded; import errors: {dagbag.import_errors}"
    return dagbag.dags[DAG_ID]


def test_dag_folder_has_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert list(dagbag.dags) == [DAG_ID]


def test_dag_has_no_cycles(dag):
    dag.check_cycle()


def test_dag_names_and_docs_in_chinese(dag):
    assert CJK.search(dag.dag_display_name), dag.dag_display_name
    assert dag.doc_md and CJK.search(dag.doc_md)
    assert dag.description and CJK.search(dag.description)


def test_dag_runs_on_demand(dag):
    # Two active runs, so a second trigger starts at once and preflight rejects it as concurrent
    # instead of waiting in the queue; tests/e2e/test_safety.py checks the rejection.
    assert dag.max_active_runs == 2
    assert dag.catchup is False
    assert dag.schedule is None
    assert isinstance(dag.timetable, NullTimetable)


def test_dag_start_date_in_shanghai(dag, plan):
    assert plan.timezone == "Asia/Shanghai"
    assert dag.timezone.name == "Asia/Shanghai"
    assert dag.start_date.tzinfo is not None
    assert dag.start_date.in_timezone("Asia/Shanghai").hour == 0


def test_every_task_mapped_to_a_step(dag, plan):
    unmapped = [task_id for task_id in dag.task_ids if _step_of(task_id) is None]
    unknown_steps = {task_id: _step_of(task_id) for task_id in dag.task_ids if _step_of(task_id) not in (None, *plan.steps)}

    assert unmapped == [], "add these tasks to STEP_OF_GROUP or STEP_OF_TASK"
    assert unknown_steps == {}


def test_task_owners_are_step_owners(dag, plan):
    names = set(plan.people.values())
    wrong = {}
    for task in dag.tasks:
        step_id = _step_of(task.task_id)
        if step_id is None:
            continue
        expected = ",".join(plan.people[login] for login in plan.steps[step_id].owners)
        if task.owner != expected or not set(task.owner.split(",")) <= names:
            wrong[task.task_id] = (task.owner, expected)

    assert wrong == {}
    assert "airflow" not in {task.owner for task in dag.tasks}


def test_task_display_names_in_chinese(dag):
    not_chinese = {task.task_id: task.task_display_name for task in dag.tasks if not CJK.search(task.task_display_name)}

    assert not_chinese == {}


def test_task_group_labels_in_chinese(dag):
    groups = dag.task_group.get_task_group_dict()
    not_chinese = {group_id: group.label for group_id, group in groups.items() if group_id and not CJK.search(group.label)}

    assert not_chinese == {}


def test_task_docs_in_chinese(dag):
    without_doc = [task.task_id for task in dag.tasks if not task.doc_md or not CJK.search(task.doc_md)]

    assert without_doc == []


def test_gates_are_the_plan_gates(dag):
    gates = sorted(task.task_id for task in dag.tasks if isinstance(task, HITLOperator))

    assert gates == sorted(GATE_STEPS)


@pytest.mark.parametrize(("gate_id", "step_id"), sorted(GATE_STEPS.items()))
def test_gate_assigned_to_owners_and_coordinator(dag, plan, gate_id, step_id):
    logins = list(plan.steps[step_id].owners)
    if plan.coordinator not in logins:
        logins.append(plan.coordinator)
    expected = [{"id": login, "name": plan.people[login]} for login in logins]

    gate = dag.get_task(gate_id)

    assert gate.assigned_users == expected
    assert gate.response_timeout is not None
    assert gate.response_timeout.total_seconds() > 0


def test_gray_rule_after_preflight(dag):
    missing = _missing_ancestors(dag, _tasks_in(dag, "app_gray_rule"), _tasks_in(dag, "preflight"))

    assert missing == {}


def test_ftt_upgrade_after_gray_rule(dag):
    missing = _missing_ancestors(dag, _tasks_in(dag, "ftt_upgrade"), _tasks_in(dag, "app_gray_rule"))

    assert missing == {}


def test_switches_after_ftt_upgrade_confirmed(dag):
    switches = [task_id for group in SWITCH_GROUPS for task_id in _tasks_in(dag, group)]

    missing = _missing_ancestors(dag, switches, _tasks_in(dag, "ftt_upgrade"))

    assert missing == {}


def test_switch_groups_run_in_parallel(dag):
    crossings = []
    for group in SWITCH_GROUPS:
        others = {task_id for other in SWITCH_GROUPS if other != group for task_id in _tasks_in(dag, other)}
        for task_id in _tasks_in(dag, group):
            crossings.extend((upstream, task_id) for upstream in sorted(_ancestors(dag, task_id) & others))

    assert crossings == []


def test_verification_after_every_switch(dag):
    switches = [task_id for group in SWITCH_GROUPS for task_id in _tasks_in(dag, group)]

    missing = _missing_ancestors(dag, _tasks_in(dag, "verification"), switches)

    assert "verification.check_business_flows" in dag.task_ids
    assert missing == {}


def test_reclaim_after_verification_passed(dag):
    missing = _missing_ancestors(dag, _tasks_in(dag, "reclaim"), ["verification.verification_passed", "record_no_migration"])

    assert missing == {}
    assert "reclaim.approve_reclaim" in _ancestors(dag, "reclaim.reclaim_test_environment")


def test_device_prompt_after_verification_passed(dag):
    missing = _missing_ancestors(dag, _tasks_in(dag, "device_prompt"), ["verification.verification_passed"])

    assert missing == {}


def test_rollback_only_after_sign_off(dag):
    missing = _missing_ancestors(dag, _tasks_in(dag, "rollback"), ["verification.sign_off"])

    assert missing == {}
    assert not _ancestors(dag, "verification.verification_passed") & set(_tasks_in(dag, "rollback"))


def test_summary_runs_last(dag):
    summary = dag.get_task("send_summary")

    assert summary.downstream_task_ids == set()
    assert _ancestors(dag, "send_summary") == set(dag.task_ids) - {"send_summary"} - WATCHERS


def test_watchers_start_with_the_run(dag):
    starting = {task_id for task_id in WATCHERS & set(dag.task_ids) if not dag.get_task(task_id).upstream_task_ids}

    assert starting == WATCHERS & set(dag.task_ids)


def test_parse_reaches_no_connection_variable_or_network(tmp_path, request):
    sentinel = {"AIRFLOW_CONN_VH_FTT_TEST": "http://127.0.0.1:9/should-not-be-read"}

    result = _probe(DAG_FOLDER, tmp_path, sentinel)
    record_parse_figure(request.config, "fresh-process DagBag", result["dagbag_seconds"])

    assert result["removed_environment"] == ["AIRFLOW_CONN_VH_FTT_TEST"]
    assert result["import_errors"] == {}
    assert DAG_ID in result["dags"]
    assert result["attempts"] == []
    assert result["dagbag_seconds"] < PARSE_SECONDS_BOUND


def test_parse_probe_catches_lookups(tmp_path):
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "leaky_dag.py").write_text(textwrap.dedent("""
        import socket

        import pendulum
        from airflow.sdk import BaseHook, Variable, dag

        for lookup in (lambda: Variable.get("vh_anything"),
                       lambda: BaseHook.get_connection("vh_ftt_test"),
                       lambda: socket.create_connection(("127.0.0.1", 9), timeout=1)):
            try:
                lookup()
            except Exception:
                pass

        @dag(schedule=None, start_date=pendulum.datetime(2024, 5, 20, tz="Asia/Shanghai"))
        def leaky():
            pass

        leaky()
    """), encoding="utf-8")

    result = _probe(folder, tmp_path, {})

    assert "leaky" in result["dags"]
    assert {attempt["kind"] for attempt in result["attempts"]} == {"connection", "variable", "network"}
