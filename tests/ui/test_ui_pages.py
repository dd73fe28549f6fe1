"""
The pages the cutover's people use, rendered by headless chromium against a real Airflow.

A coordinator sees the DAG, its trigger form and a run's graph in Chinese. The FTT gate's owner
opens the gate from its chat link, sees its two options and responds from the browser.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator

import pytest

from airflow_client import DAG_ID
from ui_support import CHROMIUM
from vh_cutover.params import build_params
from vh_cutover.plan import load_plan

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: install Debian's chromium package"),
]

DISPLAY_NAME = "5.28 虚拟人生产环境切换"
GATE_ID = "ftt_upgrade.confirm_ftt_upgrade"
GATE_OWNER = "luyiye"
APPROVE = "确认升级成功"
REJECT = "升级有问题，停止切换"


@pytest.fixture(scope="module")
def waiting_run(airflow) -> Iterator[str]:
    """Start a run and bring it to the FTT gate, which then waits for its owner."""
    client, stand_ins, _ = airflow
    stand_ins.reset()
    response = client.trigger({"poll_interval_seconds": 1})
    response.raise_for_status()
    run_id = response.json()["dag_run_id"]

    client.wait_for_task(run_id, "ftt_upgrade.wait_for_ftt_upgrade", {"deferred"})
    stand_ins.upgrade_ftt("succeed", duration_seconds=1)
    client.wait_for_task(run_id, GATE_ID, {"awaiting_input"})
    # The browser responds like answer_gate does: after the scheduler is done with the parked try.
    client.wait_for_parked_try(run_id, GATE_ID, client.task_instance(run_id, GATE_ID)["try_number"])
    yield run_id
    if run_id in client.unfinished_run_ids():
        client.fail_runs([run_id])


def _run_path(run_id: str) -> str:
    return f"/dags/{DAG_ID}/runs/{urllib.parse.quote(run_id, safe='')}"


def test_dag_page_shows_display_name(browser_as, screenshot):
    page = browser_as("wangyu", f"/dags/{DAG_ID}")

    heading = page.get_by_role("heading", name=DISPLAY_NAME)
    heading.first.wait_for()
    screenshot(page, "dag_page")

    assert "/auth/login" not in page.url
    assert heading.count() >= 1
    trigger = page.get_by_role("button", name="触发 Dag")
    trigger.wait_for()
    assert trigger.count() == 1


def test_trigger_form_shows_param_titles(browser_as, screenshot):
    params = build_params(load_plan()).values()
    sections = sorted({param.schema["section"] for param in params})
    page = browser_as("wangyu", f"/dags/{DAG_ID}")

    page.get_by_role("button", name="触发 Dag").click()
    dialog = page.locator("[role=dialog][aria-modal=true]")
    dialog.get_by_text(DISPLAY_NAME).first.wait_for()

    # Open one section at a time and look at its fields before the next one may close it.
    hidden = []
    for section in sections:
        titles = [param.schema["title"] for param in params if param.schema["section"] == section]
        dialog.get_by_role("button", name=section, exact=True).click()
        dialog.locator("label", has_text=titles[0]).first.wait_for()
        screenshot(page, f"trigger_form_{sections.index(section)}")
        hidden.extend(title for title in titles if not dialog.locator("label", has_text=title).first.is_visible())

    assert len(sections) >= 4
    assert hidden == []


def test_run_graph_shows_task_names(airflow, waiting_run, browser_as, screenshot):
    client = airflow[0]
    tasks = client.request("GET", f"/api/v2/dags/{DAG_ID}/tasks").raise_for_status().json()["tasks"]
    names = [task["task_display_name"] for task in tasks]
    page = browser_as("wangyu", _run_path(waiting_run))

    page.get_by_role("button", name="显示图表（按 g）").click()
    page.get_by_role("button", name="展开所有任务分组").click()
    graph = page.locator(".react-flow").first
    graph.get_by_text(names[0], exact=True).first.wait_for()
    screenshot(page, "run_graph")

    assert len(names) > 20
    missing = [name for name in names if graph.get_by_text(name, exact=True).count() == 0]
    assert missing == []


def test_board_tab_shows_waiting_gate(waiting_run, browser_as, screenshot):
    # The board's tab on the run page, which embeds /cutover-board/ for this run.
    page = browser_as("wangyu", f"{_run_path(waiting_run)}/plugin/cutover-board-run")

    board = page.frame_locator("iframe").first
    notice = board.locator(".notice.waiting")
    notice.wait_for()
    board.locator("tr.step").first.wait_for()
    screenshot(page, "cutover_board")

    assert "卢一烨、王宇" in notice.inner_text()
    assert board.get_by_role("link", name="去确认").get_attribute("href").endswith(f"/tasks/{GATE_ID}/required_actions")
    assert board.locator("tr.step").count() >= 10
    assert board.locator("tr.step", has_text="预检与计划通知").locator(".state").inner_text() == "完成"


def test_required_actions_show_gate_options(airflow, waiting_run, browser_as, screenshot):
    client = airflow[0]
    # The address the gate-waiting chat message links to.
    page = browser_as(GATE_OWNER, f"{_run_path(waiting_run)}/tasks/{GATE_ID}/required_actions")

    approve = page.get_by_role("button", name=APPROVE, exact=True)
    approve.wait_for()
    screenshot(page, "gate_required_action")

    assert "/auth/login" not in page.url
    assert page.get_by_role("button", name=REJECT, exact=True).count() == 1

    approve.click()
    client.wait_for_task(waiting_run, GATE_ID, {"success"}, timeout=60)
    response = client.task_instance(waiting_run, GATE_ID)
    assert response["state"] == "success"
    assert client.xcom(waiting_run, GATE_ID)["chosen_options"] == [APPROVE]
    assert client.xcom(waiting_run, GATE_ID)["responded_by_user"]["id"] == GATE_OWNER
