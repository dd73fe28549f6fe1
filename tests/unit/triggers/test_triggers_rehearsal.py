"""Integration tests of the triggers against the rehearsal stand-ins, in real (short) time."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx

from vh_cutover.hooks.release_pipeline import ReleasePipelineHook
from vh_cutover.triggers.ftt import FttUpgradeTrigger
from vh_cutover.triggers.ota import OtaPushTrigger
from vh_cutover.triggers.release_pipeline import ReleaseJobTrigger

POLL_SECONDS = 0.05


def _deadline_in(seconds: float) -> str:
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)).isoformat()


def _ftt_trigger(deadline: str, **overrides) -> FttUpgradeTrigger:
    arguments = {
        "ftt_conn_id": "vh_ftt_prod",
        "target_version": "5.0.0",
        "target_revision": "2024-04-new",
        "poll_interval": POLL_SECONDS,
        "deadline": deadline,
        **overrides,
    }
    return FttUpgradeTrigger(**arguments)


def test_ftt_upgrade_succeeds(rehearsal, run_trigger):
    rehearsal.post("/control/ftt/upgrade", json={"outcome": "succeed", "duration_seconds": 0.3}).raise_for_status()
    events = run_trigger(_ftt_trigger(_deadline_in(10)))
    assert len(events) == 1
    payload = events[0].payload
    assert payload["status"] == "upgraded"
    assert payload["version"] == "5.0.0"
    assert payload["content_revision"] == "2024-04-new"
    assert payload["finished_at"]


def test_ftt_upgrade_fails(rehearsal, run_trigger):
    rehearsal.post("/control/ftt/upgrade", json={"outcome": "fail", "duration_seconds": 0.2}).raise_for_status()
    events = run_trigger(_ftt_trigger(_deadline_in(10)))
    assert events[0].payload["status"] == "failed"
    assert events[0].payload["message"]


def test_ftt_deadline_while_running(rehearsal, run_trigger):
    rehearsal.post("/control/ftt/upgrade", json={"outcome": "succeed", "duration_seconds": 60}).raise_for_status()
    events = run_trigger(_ftt_trigger(_deadline_in(0.3)))
    assert events[0].payload == {
        "status": "deadline",
        "version": "4.2.0",
        "content_revision": "2024-03-old",
        "upgrade_state": "running",
    }


def test_ftt_survives_503_burst(rehearsal, run_trigger):
    faults = [{"system": "ftt_prod", "method": "GET", "path_contains": "/status", "status": 503, "count": 3}]
    rehearsal.put("/control/faults", json=faults).raise_for_status()
    rehearsal.post("/control/ftt/upgrade", json={"outcome": "succeed", "duration_seconds": 0}).raise_for_status()
    events = run_trigger(_ftt_trigger(_deadline_in(10), max_consecutive_failures=5))
    assert events[0].payload["status"] == "upgraded"


def test_ftt_error_after_consecutive_503(rehearsal, run_trigger):
    faults = [{"system": "ftt_prod", "method": "GET", "path_contains": "/status", "status": 503, "count": None}]
    rehearsal.put("/control/faults", json=faults).raise_for_status()
    events = run_trigger(_ftt_trigger(_deadline_in(10), max_consecutive_failures=3))
    assert events[0].payload["status"] == "error"
    assert "503" in events[0].payload["message"]


def test_ftt_trigger_writes_nothing(rehearsal, run_trigger):
    rehearsal.post("/control/ftt/upgrade", json={"outcome": "succeed", "duration_seconds": 0.1}).raise_for_status()
    run_trigger(_ftt_trigger(_deadline_in(10)))
    assert rehearsal.get("/control/writes").json()["count"] == 0


def test_release_job_outcomes(rehearsal, run_trigger):
    rehearsal.put("/control/settings", json={"job_duration_seconds": 0.2, "failing_services": []}).raise_for_status()
    hook = ReleasePipelineHook()
    good = hook.start_job("vh-backend", "2024.05.28", idempotency_key="good")
    good_events = run_trigger(ReleaseJobTrigger("vh_release_pipeline", good["job_id"], POLL_SECONDS, _deadline_in(10)))

    rehearsal.put("/control/settings", json={"failing_services": ["vh-backend"]}).raise_for_status()
    bad = hook.start_job("vh-backend", "2024.05.29", idempotency_key="bad")
    bad_events = run_trigger(ReleaseJobTrigger("vh_release_pipeline", bad["job_id"], POLL_SECONDS, _deadline_in(10)))

    assert good_events[0].payload["status"] == "succeeded"
    assert good_events[0].payload["job_id"] == good["job_id"]
    assert bad_events[0].payload["status"] == "failed"
    assert bad_events[0].payload["job_id"] == bad["job_id"]


def test_release_unknown_job_error(rehearsal, run_trigger):
    events = run_trigger(ReleaseJobTrigger("vh_release_pipeline", "no-such-job", POLL_SECONDS, _deadline_in(10)))
    assert events[0].payload["status"] == "error"


def test_ota_pushed_while_waiting(rehearsal, rehearsal_server, run_trigger):
    trigger = OtaPushTrigger("vh_ota", "wandechu_2_0", "2.7.0", POLL_SECONDS, _deadline_in(10))

    async def _push_later() -> None:
        await asyncio.sleep(0.2)
        async with httpx.AsyncClient(base_url=rehearsal_server, timeout=5) as control:
            response = await control.post("/control/ota/push", json={"product": "wandechu_2_0", "version": "2.7.0"})
            response.raise_for_status()

    async def _wait_and_push() -> list:
        pusher = asyncio.create_task(_push_later())
        events = [event async for event in trigger.run()]
        await pusher
        return events

    events = asyncio.run(_wait_and_push())
    assert events[0].payload["status"] == "pushed"
    assert events[0].payload["pushed_at"]


def test_ota_deadline(rehearsal, run_trigger):
    events = run_trigger(OtaPushTrigger("vh_ota", "wandechu_2_0", "2.7.0", POLL_SECONDS, _deadline_in(0.2)))
    assert [event.payload for event in events] == [{"status": "deadline"}]
