"""FTT upgrade and OTA push waits: deferral, the window alert, the cap and the vendor's failure."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import time_machine
from airflow.sdk.exceptions import TaskDeferred

from vh_cutover.exceptions import CutoverStepError
from vh_cutover.notifications.notifiers import FttWindowExceededNotifier
from vh_cutover.operators.waits import FttUpgradeSensor, OtaPushSensor
from vh_cutover.triggers import base as triggers_base
from vh_cutover.triggers.ftt import FttUpgradeTrigger

START = dt.datetime(2024, 5, 28, 1, 0, tzinfo=dt.timezone.utc)
# Half-hour polls keep an 8-hour window to 16 polls of the stand-in.
HALF_HOUR_POLLS = {"poll_interval_seconds": 1800}


@pytest.fixture
def clock(monkeypatch):
    """Freeze time at ``START``; a trigger's sleep between polls moves the clock instead of waiting."""
    with time_machine.travel(START, tick=False) as traveller:

        async def _advance(seconds: float) -> None:
            traveller.shift(dt.timedelta(seconds=seconds))
            await asyncio.sleep(0)

        monkeypatch.setattr(triggers_base, "_sleep", _advance)
        yield traveller


def drive(trigger) -> dict:
    async def _first_event() -> dict:
        async for event in trigger.run():
            return event.payload
        raise AssertionError(f"{trigger!r} ended without an event")

    return asyncio.run(_first_event())


def chat_titles(control) -> list[str]:
    messages = control.get("/chat/robot/messages").raise_for_status().json()["messages"]
    return [message["body"]["markdown"]["title"] for message in messages]


def ftt_sensor() -> FttUpgradeSensor:
    return FttUpgradeSensor(
        task_id="wait_for_ftt_upgrade",
        window_notifiers=[FttWindowExceededNotifier(logins=["luyiye", "wangyu"])],
    )


def test_ftt_already_upgraded_returns(rehearsal, make_context):
    rehearsal.post("/control/ftt/upgrade", json={"outcome": "succeed", "duration_seconds": 0}).raise_for_status()
    operator = ftt_sensor()

    result = operator.execute(make_context(operator))

    assert result["version"] == "5.0.0"
    assert result["content_revision"] == "2024-04-new"


def test_ftt_upgrade_completes(rehearsal, make_context, run_trigger):
    operator = ftt_sensor()
    context = make_context(operator, params={"poll_interval_seconds": 0.05})
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    assert isinstance(deferred.value.trigger, FttUpgradeTrigger)
    assert deferred.value.kwargs["phase"] == "window"

    rehearsal.post("/control/ftt/upgrade", json={"outcome": "succeed", "duration_seconds": 0}).raise_for_status()
    event = run_trigger(deferred.value.trigger)[0]
    result = operator.execute_complete(context, event, **deferred.value.kwargs)

    assert result["version"] == "5.0.0"
    assert result["content_revision"] == "2024-04-new"
    assert result["finished_at"]


def test_ftt_window_alerts_then_cap_fails(rehearsal, make_context, clock):
    operator = ftt_sensor()
    context = make_context(operator, params=HALF_HOUR_POLLS)
    with pytest.raises(TaskDeferred) as window:
        operator.execute(context)
    assert dt.datetime.fromisoformat(window.value.trigger.deadline) == START + dt.timedelta(hours=8)

    window_event = drive(window.value.trigger)
    assert window_event["status"] == "deadline"
    with pytest.raises(TaskDeferred) as cap:
        operator.execute_complete(context, window_event, **window.value.kwargs)

    assert chat_titles(rehearsal) == ["FTT升级超出窗口"]
    assert cap.value.kwargs["phase"] == "cap"
    assert cap.value.kwargs["started_at"] == window.value.kwargs["started_at"]
    assert dt.datetime.fromisoformat(cap.value.trigger.deadline) == START + dt.timedelta(hours=24)

    cap_event = drive(cap.value.trigger)
    with pytest.raises(CutoverStepError, match="24 小时内未升级到目标版本 5.0.0") as failed:
        operator.execute_complete(context, cap_event, **cap.value.kwargs)
    assert "4.2.0" in str(failed.value)
    assert chat_titles(rehearsal) == ["FTT升级超出窗口"]


def test_ftt_vendor_failure_fails(rehearsal, make_context, run_trigger):
    operator = ftt_sensor()
    context = make_context(operator, params={"poll_interval_seconds": 0.05})
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    rehearsal.post("/control/ftt/upgrade", json={"outcome": "fail", "duration_seconds": 0}).raise_for_status()

    event = run_trigger(deferred.value.trigger)[0]
    assert event["status"] == "failed"
    with pytest.raises(CutoverStepError, match="升级失败"):
        operator.execute_complete(context, event, **deferred.value.kwargs)


def test_ftt_poll_errors_fail(rehearsal, make_context):
    operator = ftt_sensor()
    context = make_context(operator)

    with pytest.raises(CutoverStepError, match="vh_ftt_prod") as failed:
        operator.execute_complete(context, {"status": "error", "message": "HTTP 401"}, started_at=START.isoformat(),
                                  phase="window", target_version="5.0.0", target_revision="2024-04-new")
    assert "HTTP 401" in str(failed.value)


def test_ota_push_waits_then_returns(rehearsal, make_context, run_trigger):
    operator = OtaPushSensor(task_id="wait_for_device_push", product="wandechu_2_0")
    context = make_context(operator, params={"poll_interval_seconds": 0.05})
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    assert deferred.value.kwargs == {"version": "2.7.0"}

    rehearsal.post("/control/ota/push", json={"product": "wandechu_2_0", "version": "2.7.0"}).raise_for_status()
    event = run_trigger(deferred.value.trigger)[0]
    result = operator.execute_complete(context, event, **deferred.value.kwargs)

    assert result["version"] == "2.7.0"
    assert result["pushed_at"]
    assert operator.execute(make_context(operator))["pushed_at"] == result["pushed_at"]


@pytest.mark.parametrize(("status", "reason"), [("deadline", "未推送给用户"), ("error", "vh_ota")])
def test_ota_unfinished_wait_fails(rehearsal, make_context, status, reason):
    operator = OtaPushSensor(task_id="wait_for_device_push", product="wandechu_2_0")

    with pytest.raises(CutoverStepError, match=reason):
        operator.execute_complete(make_context(operator), {"status": status, "message": "HTTP 503"}, version="2.7.0")
