"""Fault injection: status, count, rate, Retry-After, malformed bodies and latency."""

from __future__ import annotations

import time

import pytest
from rehearsal_support import write_count

EVALUATE = "/gray-rules/evaluate?client=wandechu_app&module=virtual_human&version=4.4.10"


def _set_faults(client, *faults):
    response = client.put("/control/faults", json=list(faults))
    response.raise_for_status()
    return response.json()


def test_status_fault_with_count(client):
    _set_faults(client, {"system": "gray_rules", "method": "GET", "path_contains": "/evaluate", "status": 503, "count": 3})

    statuses = [client.get(EVALUATE).status_code for _ in range(5)]

    assert statuses == [503, 503, 503, 200, 200]
    assert client.get("/control/faults").json()["faults"][0]["hit"] == 3


def test_fault_matches_only_its_system_and_path(client):
    _set_faults(client, {"system": "gray_rules", "path_contains": "/evaluate", "status": 500})

    assert client.get("/gray-rules/rules/wandechu_app/virtual_human").status_code == 200
    assert client.get("/ota/releases/wandechu_2_0/2.7.0").status_code == 200
    assert client.get(EVALUATE).status_code == 500


def test_fault_method_filter(client):
    _set_faults(client, {"system": "ftt_test", "method": "POST", "status": 502})

    assert client.get("/ftt/test/status").status_code == 200
    assert client.post("/ftt/test/reclaim").status_code == 502
    assert client.get("/ftt/prod/status").status_code == 200


@pytest.mark.parametrize(("rate", "expected_hits"), [(1.0, 10), (0.0, 0), (0.5, 5), (0.25, 2)])
def test_rate_is_exact(client, rate, expected_hits):
    _set_faults(client, {"system": "device_fleet", "status": 500, "rate": rate})

    statuses = [client.get("/fleet/devices").status_code for _ in range(10)]

    assert statuses.count(500) == expected_hits
    assert statuses.count(200) == 10 - expected_hits


def test_retry_after_header(client):
    _set_faults(client, {"system": "ota", "status": 429, "retry_after": 7})

    response = client.get("/ota/releases/wandechu_2_0/2.7.0")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"


def test_retry_after_needs_429_or_503(client):
    response = client.put("/control/faults", json=[{"system": "ota", "status": 500, "retry_after": 7}])

    assert response.status_code == 422
    assert "retry_after" in response.json()["detail"][0]["msg"]


def test_malformed_body(client):
    _set_faults(client, {"system": "release_pipeline", "malformed": True, "count": 1})

    broken = client.get("/releases/services/vh-backend")
    healthy = client.get("/releases/services/vh-backend")

    assert broken.status_code == 200
    with pytest.raises(ValueError):
        broken.json()
    assert healthy.json()["deployed_version"] == "2024.05.14"


def test_latency_delays_answer(client):
    _set_faults(client, {"system": "chat", "latency_ms": 300})

    started = time.perf_counter()
    response = client.post("/chat/robot/send?access_token=t", json={"msgtype": "text", "text": {"content": "延迟"}})
    elapsed = time.perf_counter() - started

    assert response.json()["errcode"] == 0
    assert elapsed >= 0.3
    assert write_count(client, "chat") == 1


def test_rejected_writes_not_logged(client):
    _set_faults(client, {"system": "gray_rules", "method": "PUT", "status": 503, "count": 2})

    for _ in range(3):
        client.put("/gray-rules/rules/wandechu_app/virtual_human", json={"min_version": "4.4.9"})

    assert write_count(client, "gray_rules") == 1
    assert client.get("/gray-rules/rules/wandechu_app/virtual_human").json()["revision"] == 1


def test_control_is_never_faulted(client):
    _set_faults(client, {"system": "*", "status": 500})

    assert client.get("/control/state").status_code == 200
    assert client.get("/chat/robot/messages").status_code == 200
    assert client.get("/ftt/prod/health").status_code == 500


def test_clear_faults(client):
    _set_faults(client, {"system": "*", "status": 500})

    client.delete("/control/faults")

    assert client.get("/ftt/prod/health").status_code == 200
    assert client.get("/control/faults").json() == {"faults": []}


@pytest.mark.parametrize(
    ("fault", "field_word"),
    [
        ({"system": "billing", "status": 500}, "system"),
        ({"system": "ota"}, "at least one"),
        ({"system": "ota", "status": 200}, "greater than or equal"),
        ({"system": "ota", "status": 500, "rate": 1.5}, "less than or equal"),
        ({"system": "ota", "status": 500, "method": "TRACE"}, "method"),
    ],
)
def test_invalid_fault_rejected(client, fault, field_word):
    response = client.put("/control/faults", json=[fault])

    assert response.status_code == 422
    assert field_word in response.json()["detail"][0]["msg"]
