"""Release pipeline and OTA stand-ins: idempotency keys, job timing, failing services, pushes."""

from __future__ import annotations

from rehearsal_support import write_count

JOB = {"service": "vh-backend", "version": "2024.05.28", "action": "deploy", "idempotency_key": "run-1-deploy"}


def test_job_finishes_after_default_duration(client, frozen_clock):
    created = client.post("/releases/jobs", json=JOB).json()

    assert created["created"] is True
    assert created["state"] == "running"
    assert created["job_id"] == "job-000001"

    frozen_clock.shift(2.9)
    assert client.get(f"/releases/jobs/{created['job_id']}").json()["state"] == "running"
    assert client.get("/releases/services/vh-backend").json()["deployed_version"] == "2024.05.14"

    frozen_clock.shift(0.1)
    finished = client.get(f"/releases/jobs/{created['job_id']}").json()
    assert finished["state"] == "succeeded"
    assert finished["message"]
    assert client.get("/releases/services/vh-backend").json() == {
        "service": "vh-backend",
        "deployed_version": "2024.05.28",
        "previous_version": "2024.05.14",
        "deployed_by_key": JOB["idempotency_key"],
    }


def test_same_idempotency_key_returns_existing_job(client, frozen_clock):
    first = client.post("/releases/jobs", json=JOB).json()
    frozen_clock.shift(1)
    second = client.post("/releases/jobs", json=JOB).json()

    assert second["created"] is False
    assert second["job_id"] == first["job_id"]
    assert len(client.get("/control/state").json()["releases"]["jobs"]) == 1
    assert write_count(client, "release_pipeline") == 2


def test_reused_key_with_other_version_conflicts(client):
    client.post("/releases/jobs", json=JOB)

    response = client.post("/releases/jobs", json={**JOB, "version": "2024.05.29"})

    assert response.status_code == 409
    assert "run-1-deploy" in response.json()["detail"]


def test_job_duration_setting(client, frozen_clock):
    client.put("/control/settings", json={"job_duration_seconds": 30})
    job_id = client.post("/releases/jobs", json=JOB).json()["job_id"]

    frozen_clock.shift(29)
    assert client.get(f"/releases/jobs/{job_id}").json()["state"] == "running"
    frozen_clock.shift(1)
    assert client.get(f"/releases/jobs/{job_id}").json()["state"] == "succeeded"


def test_failing_service_job_fails(client, frozen_clock):
    settings = client.put("/control/settings", json={"failing_services": ["vh-backend"]}).json()
    job_id = client.post("/releases/jobs", json=JOB).json()["job_id"]

    frozen_clock.shift(3)
    job = client.get(f"/releases/jobs/{job_id}").json()

    assert settings == {"job_duration_seconds": 3.0, "failing_services": ["vh-backend"]}
    assert job["state"] == "failed"
    assert "vh-backend" in job["message"]
    assert client.get("/releases/services/vh-backend").json()["deployed_version"] == "2024.05.14"


def test_rollback_restores_version(client, frozen_clock):
    client.post("/releases/jobs", json=JOB)
    frozen_clock.shift(3)
    client.post(
        "/releases/jobs",
        json={"service": "vh-backend", "version": "2024.05.14", "action": "rollback", "idempotency_key": "run-1-rb"},
    )
    frozen_clock.shift(3)

    service = client.get("/releases/services/vh-backend").json()

    assert service["deployed_version"] == "2024.05.14"
    assert service["previous_version"] == "2024.05.28"


def test_job_request_validation(client):
    unknown_service = client.post("/releases/jobs", json={**JOB, "service": "other"})
    bad_action = client.post("/releases/jobs", json={**JOB, "action": "restart"})
    no_key = client.post("/releases/jobs", json={key: value for key, value in JOB.items() if key != "idempotency_key"})

    assert unknown_service.status_code == 422
    assert unknown_service.json()["detail"][0]["loc"] == ["body", "service"]
    assert bad_action.json()["detail"][0]["loc"] == ["body", "action"]
    assert no_key.json()["detail"][0]["loc"] == ["body", "idempotency_key"]
    assert client.get("/releases/jobs/job-000001").status_code == 404


def test_ota_push_marks_release(client, frozen_clock):
    pushed = client.post("/control/ota/push", json={"product": "wandechu_2_0", "version": "2.7.0"}).json()
    frozen_clock.shift(60)
    again = client.post("/control/ota/push", json={"product": "wandechu_2_0", "version": "2.7.0"}).json()

    assert pushed == {
        "product": "wandechu_2_0",
        "version": "2.7.0",
        "pushed": True,
        "pushed_at": "2024-05-28T08:00:00+00:00",
    }
    assert again == pushed
    assert client.get("/ota/releases/wandechu_2_0/2.7.0").json() == pushed
    assert write_count(client) == 0


def test_ota_push_validation(client):
    response = client.post("/control/ota/push", json={"product": "wandechu_2_0", "version": "V2.7"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "version"]
