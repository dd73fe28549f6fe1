"""Tests of ReleaseJobTrigger and OtaPushTrigger: serialization and every outcome of a driven run."""

from __future__ import annotations

import httpx
import pytest
import respx

from vh_cutover.triggers.ota import OtaPushTrigger
from vh_cutover.triggers.release_pipeline import ReleaseJobTrigger

RELEASE_URL = "http://127.0.0.1:9/releases"
OTA_URL = "http://127.0.0.1:9/ota"
DEADLINE = "2025-05-28T10:00:00+00:00"
JOB_URL = f"{RELEASE_URL}/jobs/job-7"
RELEASE_STATUS_URL = f"{OTA_URL}/releases/wandechu_2_0/2.7.0"


def _job(state: str, message: str = "") -> dict:
    return {"job_id": "job-7", "service": "vh-backend", "version": "2024.05.28", "state": state, "message": message}


@pytest.fixture(autouse=True)
def _connections(set_connection):
    set_connection("vh_release_pipeline", RELEASE_URL)
    set_connection("vh_ota", OTA_URL)


def _release_trigger(**overrides) -> ReleaseJobTrigger:
    arguments = {
        "release_conn_id": "vh_release_pipeline",
        "job_id": "job-7",
        "poll_interval": 5,
        "deadline": DEADLINE,
        **overrides,
    }
    return ReleaseJobTrigger(**arguments)


def _ota_trigger(**overrides) -> OtaPushTrigger:
    arguments = {
        "ota_conn_id": "vh_ota",
        "product": "wandechu_2_0",
        "version": "2.7.0",
        "poll_interval": 600,
        "deadline": DEADLINE,
        **overrides,
    }
    return OtaPushTrigger(**arguments)


def test_release_serialize_round_trip():
    classpath, kwargs = _release_trigger().serialize()
    assert classpath == "vh_cutover.triggers.release_pipeline.ReleaseJobTrigger"
    assert kwargs == {
        "release_conn_id": "vh_release_pipeline",
        "job_id": "job-7",
        "poll_interval": 5,
        "deadline": DEADLINE,
        "max_consecutive_failures": 20,
    }
    assert ReleaseJobTrigger(**kwargs).serialize() == (classpath, kwargs)


@pytest.mark.parametrize("final_state", ["succeeded", "failed"])
@respx.mock
def test_release_final_state(clock, run_trigger, final_state):
    route = respx.get(JOB_URL)
    route.side_effect = [
        httpx.Response(200, json=_job("running")),
        httpx.Response(200, json=_job(final_state, message=f"job {final_state}")),
    ]
    events = run_trigger(_release_trigger())
    assert [event.payload for event in events] == [
        {"status": final_state, "job_id": "job-7", "message": f"job {final_state}"}
    ]
    assert clock.sleeps == [5]


@respx.mock
def test_release_deadline(clock, run_trigger):
    respx.get(JOB_URL).respond(json=_job("running"))
    events = run_trigger(_release_trigger(deadline="2025-05-28T09:00:12+00:00"))
    payload = events[0].payload
    assert payload["status"] == "deadline"
    assert payload["job_id"] == "job-7"
    assert "running" in payload["message"]
    assert clock.sleeps == [5, 5, 2]


@respx.mock
def test_release_unknown_job_is_error(clock, run_trigger):
    route = respx.get(JOB_URL).respond(404, json={"detail": "job not found"})
    events = run_trigger(_release_trigger())
    assert events[0].payload["status"] == "error"
    assert events[0].payload["job_id"] == "job-7"
    assert route.call_count == 1


@respx.mock
def test_release_error_after_consecutive_timeouts(clock, run_trigger):
    route = respx.get(JOB_URL).mock(side_effect=httpx.ReadTimeout("slow"))
    events = run_trigger(_release_trigger(max_consecutive_failures=4))
    assert events[0].payload["status"] == "error"
    assert route.call_count == 4


def test_ota_serialize_round_trip():
    classpath, kwargs = _ota_trigger().serialize()
    assert classpath == "vh_cutover.triggers.ota.OtaPushTrigger"
    assert kwargs == {
        "ota_conn_id": "vh_ota",
        "product": "wandechu_2_0",
        "version": "2.7.0",
        "poll_interval": 600,
        "deadline": DEADLINE,
        "max_consecutive_failures": 20,
    }
    assert OtaPushTrigger(**kwargs).serialize() == (classpath, kwargs)


@respx.mock
def test_ota_pushed(clock, run_trigger):
    route = respx.get(RELEASE_STATUS_URL)
    route.side_effect = [
        httpx.Response(200, json={"product": "wandechu_2_0", "version": "2.7.0", "pushed": False, "pushed_at": None}),
        httpx.Response(503, json={}),
        httpx.Response(
            200,
            json={"product": "wandechu_2_0", "version": "2.7.0", "pushed": True, "pushed_at": "2025-05-30T10:00:00+08:00"},
        ),
    ]
    events = run_trigger(_ota_trigger())
    assert [event.payload for event in events] == [{"status": "pushed", "pushed_at": "2025-05-30T10:00:00+08:00"}]
    assert clock.sleeps == [600, 600]


@respx.mock
def test_ota_deadline(clock, run_trigger):
    route = respx.get(RELEASE_STATUS_URL).respond(
        json={"product": "wandechu_2_0", "version": "2.7.0", "pushed": False, "pushed_at": None}
    )
    events = run_trigger(_ota_trigger())
    assert [event.payload for event in events] == [{"status": "deadline"}]
    # 09:00 to 10:00 with a 600 s interval: six full sleeps, then the poll at the deadline.
    assert clock.sleeps == [600] * 6
    assert route.call_count == 7
