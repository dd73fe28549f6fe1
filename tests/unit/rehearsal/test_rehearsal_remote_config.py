"""Remote-config stand-in and what follows from it: traffic, SDK handshake and PTA sync per environment."""

from __future__ import annotations

import pytest
from rehearsal_support import point_client_at, write_count

from vh_cutover.rehearsal.catalog import FTT_DOMAINS

VH_PATH = "/remote-config/clients/wandechu_2_0/modules/virtual_human"


def test_switch_domain_stores_settings(client):
    document = point_client_at(client, "wandechu_2_0", "prod")

    assert document["settings"]["domain"] == FTT_DOMAINS["prod"]
    assert document["settings"]["environment"] == "prod"
    assert document["revision"] == 1
    assert document["updated_by"] == "丁健"
    assert client.get(VH_PATH).json() == document


def test_same_settings_keep_revision(client):
    point_client_at(client, "wandechu_2_0", "prod")
    again = point_client_at(client, "wandechu_2_0", "prod")

    assert again["revision"] == 1
    assert write_count(client, "remote_config") == 2


def test_extra_settings_are_kept(client):
    settings = {"domain": FTT_DOMAINS["prod"], "environment": "prod", "app_id": "x", "timeout_ms": 3000}

    document = client.put(VH_PATH, json={"settings": settings}).json()

    assert document["settings"] == settings


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"domain": "http://vh.example.com", "environment": "prod", "app_id": "a"}, "domain"),
        ({"domain": FTT_DOMAINS["prod"], "environment": "staging", "app_id": "a"}, "environment"),
        ({"domain": FTT_DOMAINS["prod"], "environment": "prod"}, "app_id"),
    ],
)
def test_invalid_virtual_human_settings(client, settings, field):
    response = client.put(VH_PATH, json={"settings": settings})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "settings", field]
    assert client.get(VH_PATH).json()["revision"] == 0


def test_upgrade_prompt_settings(client):
    path = "/remote-config/clients/wandechu_2_0/modules/upgrade_prompt"
    settings = {"below_version": "2.7.0", "message": "手机同步PTA失败时，请升级到最新版本"}

    stored = client.put(path, json={"settings": settings, "updated_by": "卢一烨"}).json()
    invalid = client.put(path, json={"settings": {"below_version": "latest", "message": "x"}})

    assert stored["settings"] == settings
    assert stored["revision"] == 1
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["body", "settings", "below_version"]


def test_traffic_follows_remote_config(client):
    point_client_at(client, "wandechu_app", "prod")

    test = client.get("/ftt/test/traffic", params={"window_seconds": 60}).json()
    prod = client.get("/ftt/prod/traffic", params={"window_seconds": 60}).json()

    assert test["requests"] == 120
    assert test["by_client"] == {"wandechu_app": 0, "wandechu_2_0": 60, "shadow_world": 60}
    assert prod["requests"] == 60
    assert prod["by_client"] == {"wandechu_app": 60, "wandechu_2_0": 0, "shadow_world": 0}
    assert prod["window_seconds"] == 60


def test_traffic_on_test_stops_after_full_switch(client):
    for client_id in ("wandechu_app", "wandechu_2_0", "shadow_world"):
        point_client_at(client, client_id, "prod")

    assert client.get("/ftt/test/traffic", params={"window_seconds": 300}).json()["requests"] == 0
    assert client.get("/ftt/prod/traffic", params={"window_seconds": 300}).json()["requests"] == 900


def test_traffic_rejects_invalid_window(client):
    response = client.get("/ftt/test/traffic", params={"window_seconds": 0})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "window_seconds"]


def test_handshake_compares_domain(client):
    ok = client.get("/ftt/prod/sdk/handshake", params={"client": "wandechu_app", "domain": FTT_DOMAINS["prod"]}).json()
    wrong = client.get("/ftt/prod/sdk/handshake", params={"client": "wandechu_app", "domain": FTT_DOMAINS["test"]}).json()

    assert ok["ok"] is True
    assert ok["environment"] == "prod"
    assert ok["content_revision"] == "2024-03-old"
    assert "reason" not in ok
    assert wrong["ok"] is False
    assert FTT_DOMAINS["test"] in wrong["reason"]


def test_handshake_rejects_unknown_client(client):
    response = client.get("/ftt/prod/sdk/handshake", params={"client": "other", "domain": FTT_DOMAINS["prod"]})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "client"]


def test_pta_sync_follows_shadow_world(client):
    body = {"client": "wandechu_2_0", "user_id": "user-0031"}

    before_prod = client.post("/ftt/prod/pta/sync", json=body).json()
    before_test = client.post("/ftt/test/pta/sync", json=body).json()
    point_client_at(client, "shadow_world", "prod")
    after_prod = client.post("/ftt/prod/pta/sync", json=body).json()
    after_test = client.post("/ftt/test/pta/sync", json=body).json()

    assert before_prod["ok"] is False
    assert "reason" in before_prod
    assert before_test["ok"] is True
    assert after_prod == {"ok": True, "environment": "prod", "client": "wandechu_2_0"}
    assert after_test["ok"] is False
    assert write_count(client, "ftt_prod") == 2
    assert write_count(client, "ftt_test") == 2


def test_pta_sync_device_switch_alone_is_not_enough(client):
    point_client_at(client, "wandechu_2_0", "prod")

    result = client.post("/ftt/prod/pta/sync", json={"client": "wandechu_2_0", "user_id": "u1"}).json()

    assert result["ok"] is False


def test_pta_sync_rejects_missing_user(client):
    response = client.post("/ftt/prod/pta/sync", json={"client": "wandechu_2_0"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "user_id"]
