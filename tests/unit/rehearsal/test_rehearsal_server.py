"""The stand-ins behind real uvicorn on loopback, and state shared by several app instances on one file."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rehearsal_support import AUTH_HEADERS, write_count

from vh_cutover.rehearsal.app import create_app
from vh_cutover.rehearsal.loopback import serve_on_loopback



@pytest.fixture
def served_app(app: FastAPI) -> Iterator[str]:
    """Serve the app with uvicorn on a free loopback port and yield its base URL."""
    with serve_on_loopback(app) as base_url:
        yield base_url


def test_served_over_http(served_app):
    with httpx.Client(base_url=served_app, headers=AUTH_HEADERS, timeout=5) as http:
        http.put("/gray-rules/rules/wandechu_app/virtual_human", json={"min_version": "4.4.9"}).raise_for_status()
        evaluation = http.get(
            "/gray-rules/evaluate", params={"client": "wandechu_app", "module": "virtual_human", "version": "V4.4.8"}
        ).json()
        unauthenticated = httpx.get(f"{served_app}/ftt/test/status", timeout=5)
        writes = http.get("/control/writes").json()

    assert evaluation["visible"] is False
    assert unauthenticated.status_code == 401
    assert writes["count"] == 1


def test_latency_beyond_client_timeout(served_app):
    with httpx.Client(base_url=served_app, headers=AUTH_HEADERS) as http:
        http.put("/control/faults", json=[{"system": "ftt_prod", "latency_ms": 1500, "count": 1}]).raise_for_status()

        with pytest.raises(httpx.ReadTimeout):
            http.get("/ftt/prod/status", timeout=0.3)
        retried = http.get("/ftt/prod/status", timeout=5)

    assert retried.status_code == 200


def test_state_persists_across_app_instances(db_path):
    with TestClient(create_app(db_path), headers=AUTH_HEADERS) as first:
        first.put("/gray-rules/rules/wandechu_app/virtual_human", json={"min_version": "4.4.9"})
        first.post("/ftt/test/reclaim")
        first.put("/control/faults", json=[{"system": "ota", "status": 503, "count": 1}])

    with TestClient(create_app(db_path), headers=AUTH_HEADERS) as second:
        rule = second.get("/gray-rules/rules/wandechu_app/virtual_human").json()
        status = second.get("/ftt/test/status").json()
        faulted = second.get("/ota/releases/wandechu_2_0/2.7.0")

        assert rule["min_version"] == "4.4.9"
        assert status["reclaimed"] is True
        assert faulted.status_code == 503
        assert write_count(second) == 2


def test_db_path_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("VH_REHEARSAL_DB", str(tmp_path / "from-env.sqlite3"))

    with TestClient(create_app(), headers=AUTH_HEADERS) as test_client:
        test_client.get("/ftt/test/health")

    assert (tmp_path / "from-env.sqlite3").exists()


def test_db_path_under_airflow_home(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))

    with TestClient(create_app(), headers=AUTH_HEADERS) as test_client:
        test_client.get("/ftt/test/health")

    assert (tmp_path / "airflow" / "rehearsal.sqlite3").exists()


def test_concurrent_jobs_share_idempotency_key(db_path):
    clients = [TestClient(create_app(db_path), headers=AUTH_HEADERS) for _ in range(4)]
    job = {"service": "vh-backend", "version": "2024.05.28", "action": "deploy", "idempotency_key": "race"}

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda index: clients[index % 4].post("/releases/jobs", json=job).json(), range(16)))

    assert sum(answer["created"] for answer in answers) == 1
    assert {answer["job_id"] for answer in answers} == {"job-000001"}
    assert write_count(clients[0], "release_pipeline") == 16


def test_concurrent_fault_count_is_exact(db_path):
    clients = [TestClient(create_app(db_path), headers=AUTH_HEADERS) for _ in range(4)]
    clients[0].put("/control/faults", json=[{"system": "device_fleet", "status": 503, "count": 5}])

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda index: clients[index % 4].get("/fleet/devices").status_code, range(20)))

    assert statuses.count(503) == 5
    assert statuses.count(200) == 15
