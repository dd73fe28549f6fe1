"""Unit tests of FttHook against a faked transport."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import requests
import respx

from vh_cutover.exceptions import CutoverHttpError, MalformedResponseError, SystemUnreachableError
from vh_cutover.hooks.ftt import FttHook

BASE_URL = "http://127.0.0.1:9/ftt/prod"
STATUS = {
    "environment": "prod",
    "version": "4.2.0",
    "content_revision": "2024-03-old",
    "healthy": True,
    "reclaimed": False,
    "upgrade": {"state": "idle", "target_version": None, "started_at": None, "finished_at": None, "message": ""},
}


@pytest.fixture
def hook(set_connection) -> FttHook:
    set_connection("vh_ftt_prod", BASE_URL, "tok-ftt-prod")
    return FttHook()


def test_defaults():
    hook = FttHook()
    assert hook.ftt_conn_id == "vh_ftt_prod"
    assert hook.system == "ftt_prod"
    assert FttHook.conn_name_attr == "ftt_conn_id"
    assert FttHook.default_conn_name == "vh_ftt_prod"
    assert FttHook.conn_type == "http"


def test_system_follows_test_connection():
    assert FttHook(ftt_conn_id="vh_ftt_test").system == "ftt_test"
    assert FttHook(ftt_conn_id="other", system="ftt_test").system == "ftt_test"


def test_get_status(hook, requests_mock):
    requests_mock.get(f"{BASE_URL}/status", json=STATUS)
    assert hook.get_status() == STATUS


def test_get_status_missing_upgrade_is_malformed(hook, requests_mock):
    requests_mock.get(f"{BASE_URL}/status", json={"version": "4.2.0", "content_revision": "x"})
    with pytest.raises(MalformedResponseError, match="upgrade"):
        hook.get_status()


@respx.mock
def test_aget_status(hook):
    respx.get(f"{BASE_URL}/status").respond(json=STATUS)
    assert asyncio.run(hook.aget_status())["version"] == "4.2.0"


def test_check_health_ok(hook, requests_mock):
    requests_mock.get(f"{BASE_URL}/health", json={"status": "ok"})
    assert hook.check_health() is True


def test_check_health_503_is_unhealthy(hook, requests_mock, recorded_sleeps):
    requests_mock.get(f"{BASE_URL}/health", status_code=503, json={"detail": "reclaimed"})
    assert hook.check_health() is False
    assert requests_mock.call_count == 3


def test_check_health_401_raises(hook, requests_mock):
    requests_mock.get(f"{BASE_URL}/health", status_code=401, json={"detail": "bad token"})
    with pytest.raises(CutoverHttpError):
        hook.check_health()


def test_get_traffic(hook, requests_mock):
    body = {"environment": "prod", "window_seconds": 60, "requests": 120, "by_client": {"wandechu_app": 60}}
    requests_mock.get(f"{BASE_URL}/traffic", json=body)
    assert hook.get_traffic(60) == body
    assert requests_mock.last_request.qs == {"window_seconds": ["60"]}


@pytest.mark.parametrize("window", [0, -5, 1.5, True, "60"])
def test_get_traffic_rejects_bad_window(hook, window):
    with pytest.raises(ValueError, match="window_seconds"):
        hook.get_traffic(window)


def test_handshake(hook, requests_mock):
    body = {"client": "wandechu_app", "domain": "https://vh.example", "ok": True, "content_revision": "r"}
    requests_mock.get(f"{BASE_URL}/sdk/handshake", json=body)
    assert hook.handshake("wandechu_app", "https://vh.example")["ok"] is True
    assert requests_mock.last_request.qs == {"client": ["wandechu_app"], "domain": ["https://vh.example"]}


def test_count_pta_records(hook, requests_mock):
    requests_mock.get(f"{BASE_URL}/pta/records", json={"environment": "test", "count": 37})
    before = dt.datetime(2025, 5, 28, tzinfo=dt.timezone.utc)
    assert hook.count_pta_records(created_before=before) == 37
    assert requests_mock.last_request.qs == {"created_before": ["2025-05-28t00:00:00+00:00"]}


def test_count_pta_records_rejects_bool(hook, requests_mock):
    requests_mock.get(f"{BASE_URL}/pta/records", json={"count": True})
    with pytest.raises(MalformedResponseError, match="count"):
        hook.count_pta_records()


def test_sync_pta_posts_body(hook, requests_mock):
    requests_mock.post(f"{BASE_URL}/pta/sync", json={"ok": True, "environment": "prod"})
    assert hook.sync_pta("wandechu_2_0", "u-1")["ok"] is True
    assert requests_mock.last_request.json() == {"client": "wandechu_2_0", "user_id": "u-1"}


def test_reclaim_on_prod_raises_409(hook, requests_mock):
    requests_mock.post(f"{BASE_URL}/reclaim", status_code=409, json={"detail": "production cannot be reclaimed"})
    with pytest.raises(CutoverHttpError) as excinfo:
        hook.reclaim()
    assert excinfo.value.status == 409


def test_check_health_unreachable_raises(hook, requests_mock, recorded_sleeps):
    requests_mock.get(f"{BASE_URL}/health", exc=requests.ConnectionError("refused"))
    with pytest.raises(SystemUnreachableError):
        hook.check_health()
