"""
Faults of the outside systems and crashes of Airflow itself, through a real Airflow standalone.

The stand-ins inject the faults (``PUT /rehearsal/control/faults``). Each fault ends either in
success after retries, or in a failed task whose Chinese reason reaches its owners in chat and
which an owner clears through the REST API, as the UI does, to finish the run. The number of
full runs is kept small because each costs one to two minutes.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest

from airflow_client import AirflowClient, StandIns
from scenario import assert_target_state, find_row, start_run

pytestmark = pytest.mark.e2e

FTT_GATE = "ftt_upgrade.confirm_ftt_upgrade"
SIGN_OFF = "verification.sign_off"
RECLAIM_GATE = "reclaim.approve_reclaim"
# Heartbeat timeout of the restarted Airflow, so that a task whose worker died is retried within
# the test instead of after the default 300 seconds.
HEARTBEAT_TIMEOUT_ENV = {"AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30"}


def faults(stand_ins: StandIns) -> list[dict[str, Any]]:
    return stand_ins.http.get("/control/faults").raise_for_status().json()["faults"]


def wait_until(condition, what: str, *, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.5)


def answer(client: AirflowClient, run_id: str, task_id: str, option: str, user: str) -> None:
    client.wait_for_task(run_id, task_id, {"awaiting_input"}, timeout=300)
    response = client.answer_gate(run_id, task_id, option, user=user)
    assert response.status_code == 200, (user, task_id, response.text)


def finish_after_switch(client: AirflowClient, stand_ins: StandIns, run_id: str) -> None:
    """Sign off, push the device release and approve the reclaim, then wait for the run's end."""
    answer(client, run_id, SIGN_OFF, "验证通过，继续", "chenanqi")
    stand_ins.push_ota()
    answer(client, run_id, RECLAIM_GATE, "回收测试环境", "huangjingwei")
    assert client.wait_for_run(run_id, timeout=300) == "success", client.task_states(run_id)


def failure_messages(stand_ins: StandIns, fragment: str) -> list[dict[str, Any]]:
    """Return chat messages whose text contains ``fragment``."""
    found = []
    for message in stand_ins.messages():
        body = message["body"]
        text = (body.get("markdown") or {}).get("text") or (body.get("text") or {}).get("content") or ""
        if fragment in text:
            found.append(body)
    return found


def fail_then_clear(client: AirflowClient, stand_ins: StandIns, run_id: str, task_id: str, reason: str,
                    owner: str, repair) -> None:
    """Wait for the task to fail after its retries, check that the owners got the reason, repair and clear it."""
    assert client.wait_for_task(run_id, task_id, {"failed"}, timeout=240) == "failed"
    assert client.task_instance(run_id, task_id)["try_number"] == 3
    told = failure_messages(stand_ins, reason)
    assert told, f"no chat message with {reason!r}: {stand_ins.messages()}"
    assert any(owner in (body.get("markdown") or {}).get("text", "") for body in told), told
    assert client.wait_for_run(run_id, timeout=60) == "failed"

    repair()
    client.clear_tasks(run_id, [task_id], include_downstream=True)
    wait_until(lambda: client.task_states(run_id)[task_id] not in ("failed", "upstream_failed"), f"{task_id} cleared")


def revision(stand_ins: StandIns, section: str, client_id: str, module: str) -> int:
    return find_row(stand_ins.state()[section], client=client_id, module=module)["revision"]


def test_transient_faults_recover(airflow):
    """5xx burst, 429 with Retry-After, slow and malformed responses and a timeout end in success."""
    client, stand_ins, _ = airflow
    stand_ins.reset()
    stand_ins.set_faults([
        {"system": "ftt_test", "method": "GET", "path_contains": "/status", "status": 503, "count": 3},
        {"system": "gray_rules", "method": "PUT", "status": 429, "retry_after": 1, "count": 2},
        {"system": "device_fleet", "method": "GET", "latency_ms": 2000, "count": 2},
    ])
    response = client.trigger({"poll_interval_seconds": 1})
    assert response.status_code == 200, response.text
    run_id = response.json()["dag_run_id"]

    client.wait_for_task(run_id, "ftt_upgrade.wait_for_ftt_upgrade", {"deferred"}, timeout=240)
    assert [fault["hit"] for fault in faults(stand_ins)] == [3, 2, 2]
    device_revision = revision(stand_ins, "remote_config", "wandechu_2_0", "virtual_human")
    # The device switch's first write outlasts the connection's 10-second timeout, so the hook sends it again.
    stand_ins.set_faults([
        {"system": "ftt_prod", "method": "GET", "path_contains": "/status", "malformed": True, "count": 2},
        {"system": "remote_config", "method": "PUT", "path_contains": "/clients/wandechu_2_0/",
         "latency_ms": 12000, "count": 1},
    ])
    stand_ins.upgrade_ftt("succeed", duration_seconds=1)
    answer(client, run_id, FTT_GATE, "确认升级成功", "luyiye")
    finish_after_switch(client, stand_ins, run_id)

    assert [fault["hit"] for fault in faults(stand_ins)] == [2, 1]
    assert_target_state(stand_ins)
    for task_id in ("preflight.check_systems", "app_gray_rule.apply_gray_rule", "wandechu_2_0.switch_device_domain"):
        assert client.task_instance(run_id, task_id)["try_number"] == 1, task_id
    assert revision(stand_ins, "remote_config", "wandechu_2_0", "virtual_human") == device_revision + 1
    [record] = client.xcom(run_id, "wandechu_2_0.switch_device_domain", key="audit")
    assert record["outcome"] == "changed"


def test_failures_reach_owners_then_clear(airflow):
    """A 5xx storm, a failed vendor upgrade and a failed release job each fail their task, then clear."""
    client, stand_ins, _ = airflow
    stand_ins.reset()
    stand_ins.set_faults([{"system": "gray_rules", "method": "PUT", "status": 503}])
    response = client.trigger({"poll_interval_seconds": 1})
    assert response.status_code == 200, response.text
    run_id = response.json()["dag_run_id"]

    fail_then_clear(client, stand_ins, run_id, "app_gray_rule.apply_gray_rule", "HTTP 503", "黄经纬",
                    stand_ins.clear_faults)

    client.wait_for_task(run_id, "ftt_upgrade.wait_for_ftt_upgrade", {"deferred"}, timeout=240)
    stand_ins.upgrade_ftt("fail", duration_seconds=1)
    fail_then_clear(client, stand_ins, run_id, "ftt_upgrade.wait_for_ftt_upgrade", "升级失败", "卢一烨",
                    lambda: stand_ins.upgrade_ftt("succeed", duration_seconds=1))

    stand_ins.http.put("/control/settings", json={"failing_services": ["vh-backend"], "job_duration_seconds": 1}
                       ).raise_for_status()
    answer(client, run_id, FTT_GATE, "确认升级成功", "luyiye")
    fail_then_clear(
        client, stand_ins, run_id, "backend.release_backend", "发布任务失败", "陈健",
        lambda: stand_ins.http.put("/control/settings", json={"failing_services": []}).raise_for_status(),
    )
    finish_after_switch(client, stand_ins, run_id)

    assert_target_state(stand_ins)
    jobs = stand_ins.state()["releases"]["jobs"]
    assert [job["state"] for job in jobs].count("succeeded") == 1
    [record] = client.xcom(run_id, "backend.release_backend", key="audit")
    assert record["outcome"] == "changed"


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _slow_write_in_flight(stand_ins: StandIns) -> None:
    wait_until(lambda: faults(stand_ins)[0]["hit"] == 1, "the slowed write to reach the stand-in")


def test_crashes_change_each_key_once(airflow, airflow_server):
    """kill -9 of a task's process, then of the scheduler and the whole standalone, mid-write."""
    client, stand_ins, _ = airflow
    run_id = start_run(client, stand_ins)
    initial = stand_ins.state()
    gray_task, app_task = "app_gray_rule.apply_gray_rule", "wandechu_app.switch_app_domain"

    # Crash 1: the task's own process dies while its write is in flight.
    stand_ins.set_faults([{"system": "gray_rules", "method": "PUT", "latency_ms": 5000, "count": 1}])
    _slow_write_in_flight(stand_ins)
    pid = client.task_instance(run_id, gray_task)["pid"]
    assert pid, client.task_instance(run_id, gray_task)
    _kill(pid)
    client.wait_for_task(run_id, "ftt_upgrade.wait_for_ftt_upgrade", {"deferred"}, timeout=240)
    assert client.task_instance(run_id, gray_task)["try_number"] == 2

    # Crash 2: the scheduler and the task's process die mid-write, then the whole machine.
    stand_ins.set_faults([{"system": "remote_config", "method": "PUT", "path_contains": "/clients/wandechu_app/",
                           "latency_ms": 5000, "count": 1}])
    stand_ins.upgrade_ftt("succeed", duration_seconds=1)
    answer(client, run_id, FTT_GATE, "确认升级成功", "luyiye")
    _slow_write_in_flight(stand_ins)
    schedulers = airflow_server.group_pids("airflow scheduler")
    assert schedulers, "no scheduler process found in the standalone process group"
    # Task processes may run in process groups of their own, so each running task's pid is killed too.
    task_pids = [client.task_instance(run_id, task_id)["pid"]
                 for task_id, state in client.task_states(run_id).items() if state == "running"]
    assert task_pids, client.task_states(run_id)
    for pid in [*schedulers, *task_pids]:
        if pid:
            _kill(pid)
    airflow_server.kill()
    airflow_server.start(extra_env=HEARTBEAT_TIMEOUT_ENV)
    client._tokens.clear()

    client.wait_for_task(run_id, SIGN_OFF, {"awaiting_input"}, timeout=300)
    finish_after_switch(client, stand_ins, run_id)

    assert_target_state(stand_ins)
    final = stand_ins.state()
    for section, client_id, module in [("gray_rules", "wandechu_app", "virtual_human"),
                                       ("remote_config", "wandechu_app", "virtual_human")]:
        before = find_row(initial[section], client=client_id, module=module)["revision"]
        after = find_row(final[section], client=client_id, module=module)["revision"]
        assert after == before + 1, (section, client_id, module)
    for task_id in (gray_task, app_task):
        [record] = client.xcom(run_id, task_id, key="audit")
        assert record["outcome"] in ("changed", "applied_by_earlier_try"), (task_id, record)
        assert record["try_number"] >= 2, (task_id, record)
    keys = {write["body"]["change_key"] for write in stand_ins.writes()
            if write["system"] in ("gray_rules", "remote_config") and "/wandechu_app/" in write["path"]}
    assert keys == {f"vh_cutover_528/{run_id}/{gray_task}", f"vh_cutover_528/{run_id}/{app_task}"}
