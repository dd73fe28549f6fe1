"""The rehearsal scenario the end-to-end tests replay: the vendor, the OTA team and each gate's owner."""

from __future__ import annotations

from typing import Any

from airflow_client import AirflowClient, StandIns

PROD_DOMAIN = "https://vh.ftt-rehearsal.example.com"
TEST_DOMAIN = "https://vh-test.ftt-rehearsal.example.com"
CHANGING_TASKS = [
    "app_gray_rule.apply_gray_rule",
    "wandechu_app.switch_app_domain",
    "wandechu_2_0.switch_device_domain",
    "backend.release_backend",
    "shadow_world.switch_pta_backend",
    "reclaim.reclaim_test_environment",
    "device_prompt.set_upgrade_prompt",
]


def find_row(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    """Return the one row of a stand-in state list whose fields equal ``match``."""
    found = [row for row in rows if all(row.get(key) == value for key, value in match.items())]
    if len(found) != 1:
        raise AssertionError(f"expected one row matching {match}, found {len(found)} in {rows}")
    return found[0]


def start_run(client: AirflowClient, stand_ins: StandIns, **conf: Any) -> str:
    """Reset the stand-ins to the plan's 'before' state and trigger a run as the coordinator."""
    stand_ins.reset()
    response = client.trigger({"poll_interval_seconds": 1, **conf})
    if response.status_code != 200:
        raise AssertionError(f"trigger failed: {response.status_code} {response.text}")
    return response.json()["dag_run_id"]


def play_until_done(client: AirflowClient, stand_ins: StandIns, run_id: str) -> None:
    """Play the vendor, the OTA team and every gate's owner. Other users' responses must be rejected."""
    client.wait_for_task(run_id, "ftt_upgrade.wait_for_ftt_upgrade", {"deferred"})
    stand_ins.upgrade_ftt("succeed", duration_seconds=2)

    gate = "ftt_upgrade.confirm_ftt_upgrade"
    client.wait_for_task(run_id, gate, {"awaiting_input"})
    for outsider in ("admin", "dingjian"):
        refused = client.answer_gate(run_id, gate, "确认升级成功", user=outsider)
        if refused.status_code != 403:
            raise AssertionError(f"{outsider} answered {gate}: {refused.status_code} {refused.text}")
    _answer(client, run_id, gate, "确认升级成功", "luyiye")

    client.wait_for_task(run_id, "verification.sign_off", {"awaiting_input"})
    _answer(client, run_id, "verification.sign_off", "验证通过，继续", "chenanqi")

    client.wait_for_task(run_id, "reclaim.approve_reclaim", {"awaiting_input"})
    stand_ins.push_ota()
    _answer(client, run_id, "reclaim.approve_reclaim", "回收测试环境", "huangjingwei")


def _answer(client: AirflowClient, run_id: str, task_id: str, option: str, user: str) -> None:
    response = client.answer_gate(run_id, task_id, option, user=user)
    if response.status_code != 200:
        raise AssertionError(f"{user} could not answer {task_id}: {response.status_code} {response.text}")


def assert_target_state(stand_ins: StandIns) -> None:
    """Check every outside system is in the plan's 'after' state."""
    state = stand_ins.state()
    assert find_row(state["gray_rules"], client="wandechu_app", module="virtual_human")["min_version"] == "4.4.9"
    for client_id in ("wandechu_app", "wandechu_2_0", "shadow_world"):
        settings = find_row(state["remote_config"], client=client_id, module="virtual_human")["settings"]
        assert settings["domain"] == PROD_DOMAIN, client_id
        assert settings["environment"] == "prod", client_id
    prompt = find_row(state["remote_config"], client="wandechu_2_0", module="upgrade_prompt")["settings"]
    assert prompt["below_version"] == "2.7.0"
    assert find_row(state["releases"]["services"], service="vh-backend")["deployed_version"] == "2024.05.28"
    assert state["ftt"]["test"]["reclaimed"] is True
    assert state["ftt"]["prod"]["content_revision"] == state["ftt"]["test"]["content_revision"]
    assert state["ftt"]["prod"]["version"] == state["ftt"]["test"]["version"]
