"""The board's document: step states, waiting gates, failures, changes and local times."""

from __future__ import annotations

import datetime as dt

import pytest

from vh_cutover.board.compose import BoardComposer, BoardStep, BoardTask, step_state

UTC = dt.timezone.utc
RUN = {"run_id": "manual__2024-05-28T01:00:00+00:00", "state": "running", "conf": {},
       "start_date": dt.datetime(2024, 5, 28, 1, 0, tzinfo=UTC), "end_date": None}
LAYOUT = [
    BoardStep("preflight", "预检与计划通知", (BoardTask("preflight.check_systems", "检查各系统可访问", "王宇"),)),
    BoardStep("ftt_upgrade", "FTT生产环境升级", (
        BoardTask("ftt_upgrade.wait_for_ftt_upgrade", "等待FTT生产环境升级", "卢一烨"),
        BoardTask("ftt_upgrade.confirm_ftt_upgrade", "确认FTT生产环境升级成功", "卢一烨,王宇"),
    )),
    BoardStep("backend", "后端接口发布生产", (BoardTask("backend.release_backend", "后端接口发布生产", "陈健"),)),
]
GATE = {
    "assignees": [{"id": "luyiye", "name": "卢一烨"}, {"id": "wangyu", "name": "王宇"}],
    "created_at": dt.datetime(2024, 5, 28, 2, 30, tzinfo=UTC),
    "responded_at": None, "responded_by": None, "chosen_options": None,
}


def composer() -> BoardComposer:
    return BoardComposer(dag_id="vh_cutover_528", timezone="Asia/Shanghai", ui_base="/base")


def instance(state, try_number=1, start=None, end=None):
    return {"state": state, "try_number": try_number, "start_date": start, "end_date": end}


@pytest.mark.parametrize(("states", "expected"), [
    ([None, None], None),
    (["success", None], "running"),
    (["success", "deferred"], "running"),
    (["success", "awaiting_input"], "awaiting_input"),
    (["failed", "awaiting_input"], "failed"),
    (["success", "upstream_failed"], "upstream_failed"),
    (["success", "skipped"], "success"),
    (["skipped", "skipped"], "skipped"),
    (["up_for_retry"], "running"),
])
def test_step_state_table(states, expected):
    assert step_state(states) == expected


def test_waiting_gate_names_people_and_link():
    board = composer().compose(
        LAYOUT, run=RUN,
        instances={"preflight.check_systems": instance("success"),
                   "ftt_upgrade.wait_for_ftt_upgrade": instance("success"),
                   "ftt_upgrade.confirm_ftt_upgrade": instance("awaiting_input")},
        gates={"ftt_upgrade.confirm_ftt_upgrade": GATE}, audits={},
    )

    [waiting] = board["waiting"]
    assert waiting["people"] == ["卢一烨", "王宇"]
    assert waiting["since"] == "05-28 10:30:00"
    assert waiting["link"] == ("/base/dags/vh_cutover_528/runs/manual__2024-05-28T01%3A00%3A00%2B00%3A00"
                               "/tasks/ftt_upgrade.confirm_ftt_upgrade/required_actions")
    ftt = board["steps"][1]
    assert (ftt["state"], ftt["state_label"]) == ("awaiting_input", "等待确认")
    assert ftt["owner"] == "卢一烨、王宇"
    assert board["steps"][2]["state_label"] == "未开始"
    assert board["progress"] == {"done": 2, "total": 4}
    assert board["started"] == "05-28 09:00:00"


def test_answered_gate_shows_who_and_what():
    # The auth manager's user has no display name; the gate's assignee list has it.
    answered = {**GATE, "responded_at": dt.datetime(2024, 5, 28, 2, 40, tzinfo=UTC),
                "responded_by": {"id": "luyiye", "name": "luyiye"}, "chosen_options": ["确认升级成功"]}

    board = composer().compose(LAYOUT, run=RUN, instances={"ftt_upgrade.confirm_ftt_upgrade": instance("success")},
                               gates={"ftt_upgrade.confirm_ftt_upgrade": answered}, audits={})

    gate = board["steps"][1]["tasks"][1]["gate"]
    assert (gate["by"], gate["answer"], gate["at"]) == ("卢一烨", "确认升级成功", "05-28 10:40:00")
    assert board["waiting"] == []


def test_failed_task_listed_with_try():
    board = composer().compose(LAYOUT, run=RUN, instances={"backend.release_backend": instance("failed", 3)},
                               gates={}, audits={})

    [failed] = board["failed"]
    assert (failed["title"], failed["owner"], failed["try_number"]) == ("后端接口发布生产", "陈健", 3)
    assert board["steps"][2]["state_label"] == "失败"


def test_changes_sorted_with_labels():
    audits = {
        "backend.release_backend": [{"system": "release_pipeline", "key": "vh-backend.deployed_version",
                                     "before": "2024.05.14", "after": "2024.05.28", "actor": "DAG",
                                     "at": "2024-05-28T03:00:00+00:00", "outcome": "changed"}],
        "preflight.check_systems": [{"system": "gray_rules", "key": "wandechu_app/virtual_human", "before": None,
                                     "after": "4.4.9", "actor": "王宇", "at": "2024-05-28T01:00:00+00:00",
                                     "outcome": "no_change"}],
    }

    board = composer().compose(LAYOUT, run=RUN, instances={}, gates={}, audits=audits)

    assert [change["at"] for change in board["changes"]] == ["05-28 09:00:00", "05-28 11:00:00"]
    assert board["changes"][1]["title"] == "后端接口发布生产"
    assert board["changes"][1]["outcome_label"] == "已修改"
    assert board["changes"][0]["outcome_label"] == "无需修改"


def test_outcome_replaces_run_state_label():
    board = composer().compose(LAYOUT, run={**RUN, "state": "success"}, instances={}, gates={}, audits={},
                               outcome="已回滚到测试环境")

    assert board["run_state"] == "success"
    assert board["run_state_label"] == "已回滚到测试环境"


def test_dry_run_and_run_state_labelled():
    board = composer().compose(LAYOUT, run={**RUN, "state": "success", "conf": {"dry_run": True}},
                               instances={}, gates={}, audits={})

    assert board["dry_run"] is True
    assert board["run_state_label"] == "已结束"
