"""
The whole cutover against the stand-ins, driven through the REST API the UI uses.

The test plays every other party: the vendor upgrades FTT production, the OTA team pushes the
device release, and each owner responds to their own gate with their own login.
"""

from __future__ import annotations

import pytest

from scenario import CHANGING_TASKS, assert_target_state, play_until_done, start_run

pytestmark = pytest.mark.e2e


def test_cutover_reaches_target_state(airflow):
    client, stand_ins, _ = airflow
    run_id = start_run(client, stand_ins)
    play_until_done(client, stand_ins, run_id)

    assert client.wait_for_run(run_id) == "success", client.task_states(run_id)
    assert_target_state(stand_ins)

    ops = client.xcom(run_id, "preflight.cancel_ops_notice")
    assert ops["needed"] is False
    assert "取消" in ops["reason"]
    matrix = client.xcom(run_id, "app_gray_rule.verify_gray_rule_matrix")
    assert {row["version"]: row["visible"] for row in matrix["rows"]} == {
        "4.3.10": False, "4.4.8": False, "4.4.9": True, "4.4.10": True, "4.5.10": True,
    }
    summary = client.xcom(run_id, "send_summary")
    assert summary["state"] == "切换完成"
    outcomes = {record["task_id"]: (record["outcome"], record["try_number"]) for record in summary["records"]}
    assert summary["changes"] == len(CHANGING_TASKS), (outcomes, client.task_states(run_id))
    board = client.request("GET", "/cutover-board/api/board", params={"run_id": run_id}).json()
    assert board["run_state_label"] == "切换完成"
    assert board["waiting"] == []
    assert board["failed"] == []
    assert sorted(change["task_id"] for change in board["changes"] if change["outcome"] == "changed") == sorted(CHANGING_TASKS)
    gate_answers = [task["gate"] for step in board["steps"] for task in step["tasks"] if task["gate"]]
    assert {gate["by"] for gate in gate_answers} == {"卢一烨", "陈安棋", "黄经纬"}

    # Clearing every changing task after success must write nothing more.
    writes_before = stand_ins.write_count()
    client.clear_tasks(run_id, CHANGING_TASKS)
    assert client.wait_for_run(run_id) == "success", client.task_states(run_id)
    assert stand_ins.write_count() == writes_before
    for task_id in CHANGING_TASKS:
        record = client.xcom(run_id, task_id, key="audit")[0]
        assert record["outcome"] == "applied_by_earlier_try", (task_id, record)


def test_gate_notifications_reach_their_owners(airflow):
    client, stand_ins, _ = airflow
    run_id = start_run(client, stand_ins)
    play_until_done(client, stand_ins, run_id)
    assert client.wait_for_run(run_id) == "success"

    bodies = [message["body"] for message in stand_ins.messages()]
    texts = {body["markdown"]["title"]: body for body in bodies}
    gate = texts["待确认：确认FTT生产环境升级成功"]
    assert "卢一烨" in gate["markdown"]["text"]
    assert gate["at"]["atMobiles"] == ["13800000004", "13800000001"]
    assert "/required_actions" in gate["markdown"]["text"]
    sign_off = texts["待确认：业务验证签字确认"]
    assert "陈安棋" in sign_off["markdown"]["text"]
    assert "卢一烨" in sign_off["markdown"]["text"]
    assert "FTT生产环境升级成功" in texts
    assert "切换总结：切换完成" in texts
