"""FTT stand-in: production upgrade timing under a controlled clock, and reclaiming the test environment."""

from __future__ import annotations

from rehearsal_support import point_client_at, write_count

from vh_cutover.rehearsal.catalog import FTT_DOMAINS


def _prod_status(client):
    return client.get("/ftt/prod/status").json()


def test_upgrade_succeeds_after_duration(client, frozen_clock):
    started = client.post("/control/ftt/upgrade", json={"outcome": "succeed", "duration_seconds": 5})

    assert started.status_code == 200
    assert started.json()["upgrade"]["state"] == "running"
    assert started.json()["upgrade"]["target_version"] == "5.0.0"
    assert started.json()["upgrade"]["started_at"] == "2024-05-28T08:00:00+00:00"

    frozen_clock.shift(4.9)
    running = _prod_status(client)
    assert running["upgrade"]["state"] == "running"
    assert running["version"] == "4.2.0"

    frozen_clock.shift(0.1)
    done = _prod_status(client)
    assert done["upgrade"]["state"] == "succeeded"
    assert done["upgrade"]["finished_at"] == "2024-05-28T08:00:05+00:00"
    assert done["version"] == "5.0.0"
    assert done["content_revision"] == "2024-04-new"


def test_upgrade_fails_after_duration(client, frozen_clock):
    client.post("/control/ftt/upgrade", json={"outcome": "fail", "duration_seconds": 8 * 3600})

    frozen_clock.shift(8 * 3600 - 1)
    assert _prod_status(client)["upgrade"]["state"] == "running"

    frozen_clock.shift(1)
    failed = _prod_status(client)
    assert failed["upgrade"]["state"] == "failed"
    assert failed["upgrade"]["message"]
    assert failed["version"] == "4.2.0"
    assert failed["content_revision"] == "2024-03-old"


def test_upgrade_finishes_when_read_much_later(client, frozen_clock):
    client.post("/control/ftt/upgrade", json={"outcome": "succeed", "duration_seconds": 60})

    frozen_clock.shift(3 * 86400)

    assert _prod_status(client)["upgrade"]["finished_at"] == "2024-05-28T08:01:00+00:00"


def test_handshake_sees_upgraded_content(client, frozen_clock):
    client.post("/control/ftt/upgrade", json={"outcome": "succeed", "duration_seconds": 5})
    frozen_clock.shift(5)

    handshake = client.get(
        "/ftt/prod/sdk/handshake", params={"client": "wandechu_2_0", "domain": FTT_DOMAINS["prod"]}
    ).json()

    assert handshake["ok"] is True
    assert handshake["content_revision"] == "2024-04-new"


def test_second_upgrade_while_running_conflicts(client, frozen_clock):
    client.post("/control/ftt/upgrade", json={"outcome": "succeed", "duration_seconds": 5})

    second = client.post("/control/ftt/upgrade", json={"outcome": "fail", "duration_seconds": 5})

    assert second.status_code == 409
    frozen_clock.shift(5)
    assert _prod_status(client)["upgrade"]["state"] == "succeeded"


def test_upgrade_rejects_invalid_outcome(client):
    response = client.post("/control/ftt/upgrade", json={"outcome": "maybe", "duration_seconds": 5})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "outcome"]


def test_reclaim_test_environment(client):
    first = client.post("/ftt/test/reclaim")
    second = client.post("/ftt/test/reclaim")

    assert first.json() == {"environment": "test", "reclaimed": True, "changed": True}
    assert second.json() == {"environment": "test", "reclaimed": True, "changed": False}
    assert write_count(client, "ftt_test") == 2


def test_reclaim_keeps_first_change_key(client):
    assert client.get("/ftt/test/status").json()["reclaim_key"] is None

    client.post("/ftt/test/reclaim", json={"change_key": "run-1/reclaim"})
    client.post("/ftt/test/reclaim", json={"change_key": "run-2/reclaim"})

    assert client.get("/ftt/test/status").json()["reclaim_key"] == "run-1/reclaim"
    assert client.post("/ftt/test/reclaim", json={"change_key": ""}).status_code == 422


def test_reclaimed_environment_is_unhealthy(client):
    point_client_at(client, "shadow_world", "prod")
    client.post("/ftt/test/reclaim")

    health = client.get("/ftt/test/health")
    status = client.get("/ftt/test/status").json()
    handshake = client.get(
        "/ftt/test/sdk/handshake", params={"client": "wandechu_app", "domain": FTT_DOMAINS["test"]}
    ).json()

    assert health.status_code == 503
    assert health.json() == {"status": "reclaimed"}
    assert status["healthy"] is False
    assert status["reclaimed"] is True
    assert handshake["ok"] is False
    assert "reclaimed" in handshake["reason"]
    assert client.get("/ftt/prod/health").status_code == 200


def test_reclaim_production_conflicts(client):
    response = client.post("/ftt/prod/reclaim")

    assert response.status_code == 409
    assert client.get("/ftt/prod/status").json()["reclaimed"] is False
    assert write_count(client, "ftt_prod") == 1


def test_unknown_environment(client):
    response = client.get("/ftt/staging/status")

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "literal_error",
            "loc": ["path", "environment"],
            "msg": "Input should be 'test' or 'prod'",
            "input": "staging",
            "ctx": {"expected": "'test' or 'prod'"},
        }
    ]
