"""Tests of FttUpgradeTrigger: serialization and every outcome of a driven run."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
import respx

from vh_cutover.triggers.ftt import FttUpgradeTrigger

FTT_URL = "http://127.0.0.1:9/ftt/prod"
DEADLINE = "2025-05-28T17:00:00+00:00"


def _status(version: str, revision: str, state: str, *, finished_at: str | None = None, message: str = "") -> dict:
    return {
        "environment": "prod",
        "version": version,
        "content_revision": revision,
        "healthy": True,
        "reclaimed": False,
        "upgrade": {"state": state, "target_version": "5.0.0", "started_at": None, "finished_at": finished_at, "message": message},
    }


OLD = _status("4.2.0", "2024-03-old", "idle")
RUNNING = _status("4.2.0", "2024-03-old", "running")
DONE = _status("5.0.0", "2024-04-new", "succeeded", finished_at="2025-05-28T12:00:00+00:00")


def _trigger(deadline: str = DEADLINE, **overrides) -> FttUpgradeTrigger:
    arguments = {
        "ftt_conn_id": "vh_ftt_prod",
        "target_version": "5.0.0",
        "target_revision": "2024-04-new",
        "poll_interval": 60,
        "deadline": deadline,
        **overrides,
    }
    return FttUpgradeTrigger(**arguments)


@pytest.fixture(autouse=True)
def _connection(set_connection):
    set_connection("vh_ftt_prod", FTT_URL)


def test_serialize_round_trip():
    trigger = _trigger(max_consecutive_failures=5)
    classpath, kwargs = trigger.serialize()
    assert classpath == "vh_cutover.triggers.ftt.FttUpgradeTrigger"
    assert kwargs == {
        "ftt_conn_id": "vh_ftt_prod",
        "target_version": "5.0.0",
        "target_revision": "2024-04-new",
        "poll_interval": 60,
        "deadline": DEADLINE,
        "max_consecutive_failures": 5,
    }
    assert FttUpgradeTrigger(**kwargs).serialize() == (classpath, kwargs)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"deadline": "2025-05-28T17:00:00"}, "UTC offset"),
        ({"deadline": "tomorrow"}, "ISO 8601"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"max_consecutive_failures": 0}, "max_consecutive_failures"),
    ],
)
def test_invalid_arguments_rejected(overrides, field):
    with pytest.raises(ValueError, match=field):
        _trigger(**overrides)


@respx.mock
def test_upgraded_after_running(clock, run_trigger):
    route = respx.get(f"{FTT_URL}/status")
    route.side_effect = [httpx.Response(200, json=OLD), httpx.Response(200, json=RUNNING), httpx.Response(200, json=DONE)]

    events = run_trigger(_trigger())

    assert len(events) == 1
    assert events[0].payload == {
        "status": "upgraded",
        "version": "5.0.0",
        "content_revision": "2024-04-new",
        "finished_at": "2025-05-28T12:00:00+00:00",
    }
    assert route.call_count == 3
    assert clock.sleeps == [60, 60]


@respx.mock
def test_already_upgraded_and_idle(clock, run_trigger):
    respx.get(f"{FTT_URL}/status").respond(json=_status("5.0.0", "2024-04-new", "idle"))
    events = run_trigger(_trigger())
    assert events[0].payload["status"] == "upgraded"
    assert events[0].payload["finished_at"] is None
    assert clock.sleeps == []


@respx.mock
def test_matching_version_but_still_running_keeps_waiting(clock, run_trigger):
    route = respx.get(f"{FTT_URL}/status")
    route.side_effect = [
        httpx.Response(200, json=_status("5.0.0", "2024-04-new", "running")),
        httpx.Response(200, json=DONE),
    ]
    events = run_trigger(_trigger())
    assert events[0].payload["status"] == "upgraded"
    assert route.call_count == 2


@respx.mock
def test_failed_upgrade(clock, run_trigger):
    route = respx.get(f"{FTT_URL}/status")
    route.side_effect = [
        httpx.Response(200, json=RUNNING),
        httpx.Response(200, json=_status("4.2.0", "2024-03-old", "failed", message="content import failed")),
    ]
    events = run_trigger(_trigger())
    assert [event.payload for event in events] == [{"status": "failed", "message": "content import failed"}]


@respx.mock
def test_deadline_reports_last_state(clock, run_trigger):
    route = respx.get(f"{FTT_URL}/status").respond(json=RUNNING)
    deadline = "2025-05-28T09:02:30+00:00"

    events = run_trigger(_trigger(deadline=deadline))

    assert [event.payload for event in events] == [
        {"status": "deadline", "version": "4.2.0", "content_revision": "2024-03-old", "upgrade_state": "running"}
    ]
    # Polls at 0 s, 60 s, 120 s and at the deadline; the last sleep stops at the deadline.
    assert clock.sleeps == [60, 60, 30]
    assert route.call_count == 4


@respx.mock
def test_deadline_already_passed_polls_once(clock, run_trigger):
    route = respx.get(f"{FTT_URL}/status").respond(json=RUNNING)
    events = run_trigger(_trigger(deadline="2025-05-28T08:00:00+00:00"))
    assert events[0].payload["status"] == "deadline"
    assert route.call_count == 1
    assert clock.sleeps == []


@respx.mock
def test_transient_503_retried_next_poll(clock, run_trigger):
    route = respx.get(f"{FTT_URL}/status")
    route.side_effect = [httpx.Response(503, json={}), httpx.Response(200, text="not json"), httpx.Response(200, json=DONE)]
    events = run_trigger(_trigger())
    assert events[0].payload["status"] == "upgraded"
    assert clock.sleeps == [60, 60]


@respx.mock
def test_consecutive_failures_end_with_error(clock, run_trigger):
    route = respx.get(f"{FTT_URL}/status").respond(503, json={"detail": "maintenance"})
    events = run_trigger(_trigger(max_consecutive_failures=3))
    assert len(events) == 1
    assert events[0].payload["status"] == "error"
    assert "503" in events[0].payload["message"]
    assert route.call_count == 3
    assert clock.sleeps == [60, 60]


@respx.mock
def test_success_resets_failure_count(clock, run_trigger):
    route = respx.get(f"{FTT_URL}/status")
    route.side_effect = [
        httpx.Response(503, json={}),
        httpx.Response(200, json=RUNNING),
        httpx.Response(503, json={}),
        httpx.Response(200, json=DONE),
    ]
    events = run_trigger(_trigger(max_consecutive_failures=2))
    assert events[0].payload["status"] == "upgraded"


@respx.mock
def test_unauthorized_ends_at_once(clock, run_trigger):
    route = respx.get(f"{FTT_URL}/status").respond(401, json={"detail": "invalid token"})
    events = run_trigger(_trigger())
    assert events[0].payload["status"] == "error"
    assert "401" in events[0].payload["message"]
    assert route.call_count == 1


@respx.mock
def test_only_get_requests(clock, run_trigger):
    route = respx.route().respond(json=DONE)
    run_trigger(_trigger())
    assert {call.request.method for call in route.calls} == {"GET"}


def test_deadline_compares_across_offsets(clock, run_trigger):
    """A deadline in UTC+8 equal to the frozen UTC time is already reached."""
    with respx.mock:
        respx.get(f"{FTT_URL}/status").respond(json=RUNNING)
        moment = dt.datetime(2025, 5, 28, 17, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        events = run_trigger(_trigger(deadline=moment.isoformat()))
    assert events[0].payload["status"] == "deadline"
