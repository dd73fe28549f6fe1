"""
The cutover board served by the api-server: what it shows the coordinator of a run while the run
waits for the vendor and then for a person. An anonymous request gets 401.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_client import AirflowClient
from scenario import start_run

pytestmark = pytest.mark.e2e

FTT_GATE = "ftt_upgrade.confirm_ftt_upgrade"


def _board(client: AirflowClient, **params: str) -> dict[str, Any]:
    response = client.request("GET", "/cutover-board/api/board", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _step(board: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(step for step in board["steps"] if step["step_id"] == step_id)


def test_board_follows_the_run(airflow):
    client, stand_ins, _ = airflow
    run_id = start_run(client, stand_ins)
    client.wait_for_task(run_id, "ftt_upgrade.wait_for_ftt_upgrade", {"deferred"})

    board = _board(client, run_id=run_id)
    assert board["run_state_label"] == "进行中"
    assert [step["step_id"] for step in board["steps"]][:3] == ["preflight", "app_gray_rule", "ftt_upgrade"]
    assert _step(board, "preflight")["state_label"] == "完成"
    assert _step(board, "ftt_upgrade")["state_label"] == "进行中"
    waiting_task = _step(board, "ftt_upgrade")["tasks"][0]
    assert (waiting_task["task_id"], waiting_task["state_label"]) == ("ftt_upgrade.wait_for_ftt_upgrade", "等待外部系统")
    [gray_rule] = [change for change in board["changes"] if change["task_id"] == "app_gray_rule.apply_gray_rule"]
    assert (gray_rule["outcome_label"], gray_rule["after"]) == ("已修改", "4.4.9")

    stand_ins.upgrade_ftt("succeed", duration_seconds=1)
    client.wait_for_task(run_id, FTT_GATE, {"awaiting_input"})
    board = _board(client)
    assert board["run_id"] == run_id
    [waiting] = board["waiting"]
    assert waiting["task_id"] == FTT_GATE
    assert waiting["people"] == ["卢一烨", "王宇"]
    assert waiting["link"].endswith(f"/tasks/{FTT_GATE}/required_actions")
    assert _step(board, "ftt_upgrade")["state_label"] == "等待确认"

    runs = client.request("GET", "/cutover-board/api/runs").json()["runs"]
    assert runs[0]["run_id"] == run_id
    assert runs[0]["started"] == board["started"]
    anonymous = client.http.get("/cutover-board/api/board", params={"run_id": run_id})
    assert anonymous.status_code == 401
