"""
Safety of a cutover run against a real Airflow: dry run, rollback, one run at a time, bad input.

Chat messages are notifications to people, not changes to the systems the cutover moves: a dry
run still sends them (owners must still respond to its gates), so "nothing was written" means no write
to any stand-in except the chat robot.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_client import DAG_ID, AirflowClient, StandIns
from bad_inputs import BAD_INPUTS
from scenario import CHANGING_TASKS
from vh_cutover.params import build_params, invalid_message
from vh_cutover.runtime import current_plan

pytestmark = pytest.mark.e2e

PROD = "https://vh.ftt-rehearsal.example.com"
TEST = "https://vh-test.ftt-rehearsal.example.com"
CLIENTS = ("wandechu_app", "wandechu_2_0", "shadow_world")
ROLLBACK_TASKS = [
    "rollback.rollback_app_domain",
    "rollback.rollback_device_domain",
    "rollback.rollback_pta_backend",
    "rollback.rollback_backend",
]
TITLES = {name: param.schema["title"] for name, param in build_params(current_plan()).items()}
# A representative subset of the table: the rest is covered by tests/unit/test_params.py.
E2E_CASES = {"version_two_parts", "test_domain_http", "clients_unknown", "threshold_cleared",
             "prod_domain_equals_test", "unknown_parameter"}


def _find(rows: list[dict], **match) -> dict:
    found = [row for row in rows if all(row.get(key) == value for key, value in match.items())]
    assert len(found) == 1, (match, rows)
    return found[0]


def _system_writes(stand_ins: StandIns) -> list[dict]:
    return [write for write in stand_ins.writes() if write["system"] != "chat"]


def _task_log(client: AirflowClient, run_id: str, task_id: str, try_number: int = 1) -> str:
    response = client.request("GET", f"{client.run_path(run_id)}/taskInstances/{task_id}/logs/{try_number}",
                              params={"full_content": True})
    response.raise_for_status()
    return response.text


def _run_ids(client: AirflowClient) -> set[str]:
    response = client.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns", params={"limit": 100})
    response.raise_for_status()
    return {run["dag_run_id"] for run in response.json()["dag_runs"]}


def _trigger(client: AirflowClient, **conf) -> str:
    response = client.trigger({"poll_interval_seconds": 1, **conf})
    assert response.status_code == 200, response.text
    return response.json()["dag_run_id"]


def _play_until_sign_off(client: AirflowClient, stand_ins: StandIns, run_id: str) -> None:
    client.wait_for_task(run_id, "ftt_upgrade.wait_for_ftt_upgrade", {"deferred"})
    stand_ins.upgrade_ftt("succeed", duration_seconds=1)
    client.wait_for_task(run_id, "ftt_upgrade.confirm_ftt_upgrade", {"awaiting_input"})
    assert client.answer_gate(run_id, "ftt_upgrade.confirm_ftt_upgrade", "确认升级成功", user="luyiye").status_code == 200
    client.wait_for_task(run_id, "verification.sign_off", {"awaiting_input"})


@pytest.fixture
def cutover(airflow) -> Iterator[tuple[AirflowClient, StandIns]]:
    """Reset the stand-ins, and fail any run this test left running so the next test may start one."""
    client, stand_ins, _ = airflow
    stand_ins.reset()
    yield client, stand_ins
    client.fail_unfinished_runs()


def test_dry_run_walks_graph_and_writes_nothing(cutover):
    client, stand_ins = cutover
    run_id = _trigger(client, dry_run=True)
    _play_until_sign_off(client, stand_ins, run_id)

    checks = client.xcom(run_id, "verification.check_business_flows")
    assert checks["dry_run"] is True
    assert checks["passed"] is False
    assert client.answer_gate(run_id, "verification.sign_off", "验证通过，继续", user="chenanqi").status_code == 200
    client.wait_for_task(run_id, "reclaim.approve_reclaim", {"awaiting_input"})
    stand_ins.push_ota()
    assert client.answer_gate(run_id, "reclaim.approve_reclaim", "回收测试环境", user="wangyu").status_code == 200
    assert client.wait_for_run(run_id) == "success", client.task_states(run_id)

    assert _system_writes(stand_ins) == []
    state = stand_ins.state()
    for client_id in CLIENTS:
        settings = _find(state["remote_config"], client=client_id, module="virtual_human")["settings"]
        assert settings["environment"] == "test", client_id
    assert _find(state["gray_rules"], client="wandechu_app", module="virtual_human")["min_version"] is None
    assert _find(state["releases"]["services"], service="vh-backend")["deployed_version"] == "2024.05.14"
    assert state["ftt"]["test"]["reclaimed"] is False

    for task_id in CHANGING_TASKS:
        record = client.xcom(run_id, task_id, key="audit")[0]
        assert record["outcome"] == "dry_run", (task_id, record)
        assert record["before"] != record["after"], (task_id, record)
    switch = client.xcom(run_id, "wandechu_app.switch_app_domain", key="audit")[0]
    assert (switch["before"]["domain"], switch["after"]["domain"]) == (TEST, PROD)
    reclaim = client.xcom(run_id, "reclaim.reclaim_test_environment", key="audit")[0]
    assert "业务流程验证未通过" in reclaim["note"]
    assert client.xcom(run_id, "shadow_world.inform_shadow_world_team")["dry_run"] is True

    summary = client.xcom(run_id, "send_summary")
    assert summary["state"] == "演练完成（未修改任何系统）"
    assert summary["changes"] == 0
    assert len([r for r in summary["records"] if r["outcome"] == "dry_run"]) == len(CHANGING_TASKS)


def test_rollback_restores_test_and_refuses_second_run(cutover):
    client, stand_ins = cutover
    run_id = _trigger(client)
    _play_until_sign_off(client, stand_ins, run_id)

    # A second trigger while the first run waits at its sign-off is refused before any write.
    writes_before = _system_writes(stand_ins)
    second = _trigger(client)
    assert client.wait_for_run(second) == "failed"
    assert client.task_states(second)["preflight.validate_params"] == "failed"
    assert client.task_instance(second, "preflight.validate_params")["try_number"] == 1
    refusal = _task_log(client, second, "preflight.validate_params")
    assert "同一时间只允许一个切换运行" in refusal
    assert run_id in refusal
    assert _system_writes(stand_ins) == writes_before
    assert client.run_state(run_id) == "running"

    assert client.answer_gate(run_id, "verification.sign_off", "回滚到测试环境", user="chenanqi").status_code == 200
    assert client.wait_for_run(run_id) == "success", client.task_states(run_id)

    state = stand_ins.state()
    for client_id in CLIENTS:
        settings = _find(state["remote_config"], client=client_id, module="virtual_human")["settings"]
        assert (settings["domain"], settings["environment"]) == (TEST, "test"), client_id
    assert _find(state["releases"]["services"], service="vh-backend")["deployed_version"] == "2024.05.14"
    assert state["ftt"]["test"]["reclaimed"] is False
    states = client.task_states(run_id)
    assert states["reclaim.reclaim_test_environment"] == "skipped"
    assert states["device_prompt.set_upgrade_prompt"] == "skipped"

    for task_id in ROLLBACK_TASKS:
        record = client.xcom(run_id, task_id, key="audit")[0]
        assert record["outcome"] == "changed", (task_id, record)
        assert record["actor"] == "陈安棋（chenanqi）", (task_id, record)
    backend = client.xcom(run_id, "rollback.rollback_backend", key="audit")[0]
    assert (backend["before"], backend["after"]) == ("2024.05.28", "2024.05.14")
    app = client.xcom(run_id, "rollback.rollback_app_domain", key="audit")[0]
    assert (app["before"]["environment"], app["after"]["environment"]) == ("prod", "test")

    summary = client.xcom(run_id, "send_summary")
    assert summary["state"] == "已回滚到测试环境"
    undo_keys = {(r["task_id"], r["outcome"]) for r in summary["records"]}
    assert {(task_id, "changed") for task_id in ROLLBACK_TASKS} <= undo_keys
    bodies = {m["body"]["markdown"]["title"]: m["body"] for m in stand_ins.messages() if m["body"].get("msgtype") == "markdown"}
    assert "切换已回滚" in bodies
    assert "切换总结：已回滚到测试环境" in bodies
    everyone = bodies["切换计划已发布"]["at"]["atMobiles"]
    assert everyone
    assert sorted(bodies["切换已回滚"]["at"]["atMobiles"]) == sorted(everyone)

    # Undoing again writes nothing: each undo finds its target in place.
    writes_after = _system_writes(stand_ins)
    client.clear_tasks(run_id, ROLLBACK_TASKS)
    assert client.wait_for_run(run_id) == "success", client.task_states(run_id)
    assert _system_writes(stand_ins) == writes_after
    for task_id in ROLLBACK_TASKS:
        record = client.xcom(run_id, task_id, key="audit")[0]
        assert record["outcome"] in ("no_change", "applied_by_earlier_try"), (task_id, record)


@pytest.mark.parametrize("case", [c for c in BAD_INPUTS if c.case_id in E2E_CASES], ids=lambda case: case.case_id)
def test_bad_input_rejected_end_to_end(cutover, case):
    client, stand_ins = cutover
    runs_before = _run_ids(client)
    response = client.trigger({"poll_interval_seconds": 1, **case.conf})

    if case.layer == "api":
        assert response.status_code == 400, response.text
        detail = response.json()["detail"]
        assert detail.startswith(f"Invalid input for param {case.field}:")
        assert invalid_message(case.field, TITLES[case.field]) in detail
        assert _run_ids(client) == runs_before
    else:
        assert response.status_code == 200, response.text
        run_id = response.json()["dag_run_id"]
        assert client.wait_for_run(run_id) == "failed"
        states = client.task_states(run_id)
        assert states["preflight.validate_params"] == "failed"
        assert states["preflight.check_systems"] == "upstream_failed"
        assert client.task_instance(run_id, "preflight.validate_params")["try_number"] == 1
        reason = _task_log(client, run_id, "preflight.validate_params")
        expected = f"未知参数 ['{case.field}']" if case.field not in TITLES else f"参数 {case.field}（{TITLES[case.field]}）"
        assert expected in reason
        assert "请用正确的参数重新触发一次运行" in reason
    assert _system_writes(stand_ins) == []
