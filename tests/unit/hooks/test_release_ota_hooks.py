"""Unit tests of ReleasePipelineHook and OtaHook against a faked transport."""

from __future__ import annotations

import asyncio

import pytest
import respx

from vh_cutover.exceptions import MalformedResponseError
from vh_cutover.hooks.ota import OtaHook
from vh_cutover.hooks.release_pipeline import ReleasePipelineHook

RELEASE_URL = "http://127.0.0.1:9/releases"
OTA_URL = "http://127.0.0.1:9/ota"
JOB = {"job_id": "job-1", "service": "vh-backend", "version": "2024.05.28", "action": "deploy", "state": "running"}


@pytest.fixture
def release(set_connection) -> ReleasePipelineHook:
    set_connection("vh_release_pipeline", RELEASE_URL, "tok-release")
    return ReleasePipelineHook()


@pytest.fixture
def ota(set_connection) -> OtaHook:
    set_connection("vh_ota", OTA_URL, "tok-ota")
    return OtaHook()


def test_release_defaults():
    assert ReleasePipelineHook().release_conn_id == "vh_release_pipeline"
    assert ReleasePipelineHook.conn_name_attr == "release_conn_id"


def test_get_service(release, requests_mock):
    body = {"service": "vh-backend", "deployed_version": "2024.05.14", "previous_version": None}
    requests_mock.get(f"{RELEASE_URL}/services/vh-backend", json=body)
    assert release.get_service("vh-backend") == body


def test_start_job_body(release, requests_mock):
    requests_mock.post(f"{RELEASE_URL}/jobs", json={**JOB, "created": True})
    job = release.start_job("vh-backend", "2024.05.28", idempotency_key="run-1:backend")
    assert job["created"] is True
    assert requests_mock.last_request.json() == {
        "service": "vh-backend",
        "version": "2024.05.28",
        "action": "deploy",
        "idempotency_key": "run-1:backend",
    }


def test_start_job_rejects_unknown_action(release):
    with pytest.raises(ValueError, match="action"):
        release.start_job("vh-backend", "1.0.0", "redeploy", idempotency_key="k")


def test_get_job_requires_state(release, requests_mock):
    requests_mock.get(f"{RELEASE_URL}/jobs/job-1", json={"job_id": "job-1"})
    with pytest.raises(MalformedResponseError, match="state"):
        release.get_job("job-1")


@respx.mock
def test_aget_job(release):
    respx.get(f"{RELEASE_URL}/jobs/job-1").respond(json={**JOB, "state": "succeeded"})
    assert asyncio.run(release.aget_job("job-1"))["state"] == "succeeded"


def test_ota_defaults():
    assert OtaHook().ota_conn_id == "vh_ota"
    assert OtaHook.conn_name_attr == "ota_conn_id"


def test_get_release(ota, requests_mock):
    body = {"product": "wandechu_2_0", "version": "2.7.0", "pushed": False, "pushed_at": None}
    requests_mock.get(f"{OTA_URL}/releases/wandechu_2_0/2.7.0", json=body)
    assert ota.get_release("wandechu_2_0", "2.7.0") == body


@respx.mock
def test_aget_release(ota):
    body = {"product": "wandechu_2_0", "version": "2.7.0", "pushed": True, "pushed_at": "2025-05-30T10:00:00+00:00"}
    respx.get(f"{OTA_URL}/releases/wandechu_2_0/2.7.0").respond(json=body)
    assert asyncio.run(ota.aget_release("wandechu_2_0", "2.7.0"))["pushed"] is True
