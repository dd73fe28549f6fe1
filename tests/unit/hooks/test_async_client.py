"""Tests of the async HTTP client used by triggers: connection lookup, retries and errors."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from airflow.sdk.definitions.connection import Connection

from vh_cutover.exceptions import CutoverHttpError, MalformedResponseError, SystemUnreachableError
from vh_cutover.hooks.base import AsyncCutoverHttpClient

BASE_URL = "http://127.0.0.1:9/api"
TOKEN = "tok-async-not-a-real-token"
CONN_ID = "vh_async_system"


@pytest.fixture
def client(set_connection) -> AsyncCutoverHttpClient:
    set_connection(CONN_ID, BASE_URL, TOKEN)
    return AsyncCutoverHttpClient(CONN_ID, system="probe")


@respx.mock
def test_success_sends_bearer(client):
    route = respx.get(f"{BASE_URL}/status").respond(json={"version": "5.0.0"})
    assert asyncio.run(client.request_json("GET", "/status")) == {"version": "5.0.0"}
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"


@respx.mock
def test_bearer_can_be_disabled(set_connection):
    set_connection(CONN_ID, BASE_URL, TOKEN)
    route = respx.get(f"{BASE_URL}/status").respond(json={})
    asyncio.run(AsyncCutoverHttpClient(CONN_ID, system="probe", bearer_auth=False).request_json("GET", "/status"))
    assert "Authorization" not in route.calls.last.request.headers


@respx.mock
def test_retries_503_then_succeeds(client, recorded_sleeps):
    route = respx.get(f"{BASE_URL}/status")
    route.side_effect = [httpx.Response(503, json={}), httpx.Response(503, json={}), httpx.Response(200, json={"ok": 1})]
    assert asyncio.run(client.request_json("GET", "/status")) == {"ok": 1}
    assert route.call_count == 3
    assert recorded_sleeps == [0.01, 0.02]


@respx.mock
def test_429_honours_retry_after(client, recorded_sleeps):
    route = respx.get(f"{BASE_URL}/status")
    route.side_effect = [httpx.Response(429, headers={"Retry-After": "0.04"}, json={}), httpx.Response(200, json={})]
    asyncio.run(client.request_json("GET", "/status"))
    assert recorded_sleeps == [0.04]


@respx.mock
def test_4xx_not_retried(client, recorded_sleeps):
    route = respx.get(f"{BASE_URL}/jobs/j-1").respond(404, json={"detail": "unknown job j-1"})
    with pytest.raises(CutoverHttpError) as excinfo:
        asyncio.run(client.request_json("GET", "/jobs/j-1"))
    assert excinfo.value.status == 404
    assert "unknown job j-1" in str(excinfo.value)
    assert route.call_count == 1
    assert recorded_sleeps == []


@respx.mock
def test_transport_error_becomes_unreachable(client, recorded_sleeps):
    route = respx.get(f"{BASE_URL}/status").mock(side_effect=httpx.ConnectTimeout("timed out"))
    with pytest.raises(SystemUnreachableError):
        asyncio.run(client.request_json("GET", "/status"))
    assert route.call_count == 3
    assert len(recorded_sleeps) == 2


@respx.mock
def test_malformed_body(client):
    respx.get(f"{BASE_URL}/status").respond(200, text="{not json")
    with pytest.raises(MalformedResponseError):
        asyncio.run(client.request_json("GET", "/status"))


@respx.mock
def test_settings_read_without_sync_extra_dejson(client, monkeypatch):
    """Inside the triggerer the sync extra_dejson can deadlock, so the client must use the async path."""

    def _forbidden(self):
        raise RuntimeError("sync extra_dejson called from async code")

    monkeypatch.setattr(Connection, "extra_dejson", property(_forbidden))
    respx.get(f"{BASE_URL}/status").respond(json={"ok": True})
    assert asyncio.run(client.request_json("GET", "/status")) == {"ok": True}
    assert asyncio.run(client.get_settings()).max_retries == 2


@respx.mock
def test_timeout_from_connection(set_connection):
    set_connection(CONN_ID, BASE_URL, TOKEN, extra={"timeout": 1.5})
    route = respx.get(f"{BASE_URL}/status").respond(json={})
    asyncio.run(AsyncCutoverHttpClient(CONN_ID, system="probe").request_json("GET", "/status"))
    assert route.calls.last.request.extensions["timeout"]["read"] == 1.5
