"""
The whole cutover against the stand-ins, driven through the REST API the UI uses.

The test plays every other party: the vendor upgrades FTT production, the OTA team pushes the
device release, and each owner answers their own gate with their own login.
"""

from __future__ import annotations

import pytest

from airflow_client import AirflowClient, StandIns

pytestmark = pytest.mark.e2e

PROD = "https://vh.ftt-rehearsal.example.com"
TEST = "https://vh-test.ftt-rehearsal.example.com"
CHANGING_TASKS = [
    "app_gray_rule.apply_gray_rule",
    "wandechu_app.switch_app_domain",
    "wandechu_2_0.switch_device_domain",
    "backend.release_backend",
    "shadow_world.switch_pta_backend",
    "reclaim.reclaim_test_environment",
    "device_prompt.set_upgrade_prompt",
]


def _find(rows: list[dict], **match) -> dict:
    found = [row for row in rows if all(row.get(key) == value for key, value in match.items())]
    assert len(found) == 1, (match, rows)
    return found[0]


def _start_run(client: AirflowClient, stand_ins: StandIns, **conf) -> str:
    stand_ins.reset()
    response = client.trigger({"poll_interval_seconds": 1, **conf})
    assert response.status_code == 200, response.text
    return response.json()["dag_run_id"]


def _play_until_done(client: AirflowClient, stand_ins: StandIns, run_id: str) -> None:
    """Play the vendor, the OTA team and every gate's owner until the run ends."""
    client.wait_for_task(run_id, "ftt_upgrade.wait_for_ftt_upgrade", {"deferred"})
    stand_ins.upgrade_ftt("succeed", duration_seconds=2)

    client.wait_for_task(run_id, "ftt_upgrade.confirm_ftt_upgrade", {"awaiting_input"})
    assert client.answer_gate(run_id, "ftt_upgrade.confirm_ftt_upgrade", "确认升级成功", user="admin").status_code == 403
    assert client.answer_gate(run_id, "ftt_upgrade.confirm_ftt_upgrade", "确认升级成功", user="dingjian").status_code == 403
    assert client.answer_gate(run_id, "ftt_upgrade.confirm_ftt_upgrade", "确认升级成功", user="luyiye").status_code == 200

    client.wait_for_task(run_id, "verification.sign_off", {"awaiting_input"})
    assert client.answer_gate(run_id, "verification.sign_off", "验证通过，继续", user="chenanqi").status_code == 200

    client.wait_for_task(run_id, "reclaim.approve_reclaim", {"awaiting_input"})
    stand_ins.push_ota()
    assert client.answer_gate(run_id, "reclaim.approve_reclaim", "回收测试环境", user="huangjingwei").status_code == 200


def test_cutover_reaches_target_state(airflow):
    client, stand_ins, _ = airflow
    run_id = _start_run(client, stand_ins)
    _play_until_done(client, stand_ins, run_id)

    assert client.wait_for_run(run_id) == "success", client.task_states(run_id)
    state = stand_ins.state()

    assert _find(state["gray_rules"], client="wandechu_app", module="virtual_human")["min_version"] == "4.4.9"
    for client_id in ("wandechu_app", "wandechu_2_0", "shadow_world"):
        settings = _find(state["remote_config"], client=client_id, module="virtual_human")["settings"]
        assert settings["domain"] == PROD, client_id
        assert settings["environment"] == "prod", client_id
    prompt = _find(state["remote_config"], client="wandechu_2_0", module="upgrade_prompt")["settings"]
    assert prompt["below_version"] == "2.7.0"
    assert _find(state["releases"]["services"], service="vh-backend")["deployed_version"] == "2024.05.28"
    assert state["ftt"]["test"]["reclaimed"] is True
    assert state["ftt"]["prod"]["content_revision"] == state["ftt"]["test"]["content_revision"]

    ops = client.xcom(run_id, "preflight.cancel_ops_notice")
    assert ops["needed"] is False
    assert "取消" in ops["reason"]
    matrix = client.xcom(run_id, "app_gray_rule.verify_gray_rule_matrix")
    assert {row["version"]: row["visible"] for row in matrix["rows"]} == {
        "4.3.10": False, "4.4.8": False, "4.4.9": True, "4.4.10": True, "4.5.10": True,
    }
    summary = client.xcom(run_id, "send_summary")
    assert summary["state"] == "切换完成"
    assert summary["changes"] == len(CHANGING_TASKS)

    # Clearing every changing task after success must write nothing more.
    writes_before = stand_ins.write_count()
    client.clear_tasks(run_id, CHANGING_TASKS)
    assert client.wait_for_run(run_id) == "success", client.task_states(run_id)
    assert stand_ins.write_count() == writes_before
    for task_id in CHANGING_TASKS:
        record = client.xcom(run_id, task_id, key="audit")[0]
        assert record["outcome"] in ("no_change", "applied_by_earlier_try"), (task_id, record)


def test_gate_notifications_reach_their_owners(airflow):
    client, stand_ins, _ = airflow
    run_id = _start_run(client, stand_ins)
    _play_until_done(client, stand_ins, run_id)
    assert client.wait_for_run(run_id) == "success"

    bodies = [message["body"] for message in stand_ins.messages()]
    texts = {body["markdown"]["title"]: body for body in bodies}
    gate = texts["待确认：确认FTT生产环境升级成功"]
    assert "卢一烨" in gate["markdown"]["text"]
    assert gate["at"]["atMobiles"] == ["13800000004", "13800000001"]
    assert "/required_actions" in gate["markdown"]["text"]
    sign_off = texts["待确认：业务验证签字确认"]
    assert "陈安棋" in sign_off["markdown"]["text"] and "卢一烨" in sign_off["markdown"]["text"]
    assert "FTT生产环境升级成功" in texts
    assert "切换总结：切换完成" in texts
