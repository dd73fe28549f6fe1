"""Initial ("before") state of every stand-in system, the fleet figures and reset."""

from __future__ import annotations

import os

from fastapi.testclient import TestClient
from rehearsal_support import AUTH_HEADERS, write_count

from vh_cutover.rehearsal.app import create_app
from vh_cutover.rehearsal.catalog import CLIENT_IDS, FTT_DOMAINS, MODULE_IDS, parse_version


def _all_devices(client, model="DW220"):
    devices = []
    page = 1
    while True:
        body = client.get("/fleet/devices", params={"model": model, "page": page, "page_size": 100}).json()
        devices.extend(body["items"])
        if page * body["page_size"] >= body["total"]:
            return devices, body["total"]
        page += 1


def test_state_file_created_on_first_request(client, db_path):
    assert not os.path.exists(db_path)

    response = client.get("/ftt/test/health")

    assert response.status_code == 200
    assert os.path.exists(db_path)


def test_ftt_initial_status(client):
    test = client.get("/ftt/test/status").json()
    prod = client.get("/ftt/prod/status").json()

    assert test["version"] == "5.0.0"
    assert test["content_revision"] == "2024-04-new"
    assert test["healthy"] is True
    assert test["reclaimed"] is False
    assert prod["version"] == "4.2.0"
    assert prod["content_revision"] == "2024-03-old"
    assert prod["upgrade"] == {
        "state": "idle",
        "target_version": None,
        "started_at": None,
        "finished_at": None,
        "message": "",
    }


def test_ftt_initial_pta_records(client):
    assert client.get("/ftt/test/pta/records").json() == {"environment": "test", "count": 37}
    assert client.get("/ftt/prod/pta/records").json() == {"environment": "prod", "count": 0}


def test_pta_records_created_before_filter(client):
    early = client.get("/ftt/test/pta/records", params={"created_before": "2024-04-05T00:00:00Z"}).json()
    invalid = client.get("/ftt/test/pta/records", params={"created_before": "yesterday"})

    assert early["count"] == 2
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["query", "created_before"]


def test_gray_rules_start_empty(client):
    for client_id in CLIENT_IDS:
        for module in MODULE_IDS:
            rule = client.get(f"/gray-rules/rules/{client_id}/{module}").json()
            assert rule["min_version"] is None
            assert rule["revision"] == 0


def test_remote_config_points_at_test(client):
    for client_id in CLIENT_IDS:
        document = client.get(f"/remote-config/clients/{client_id}/modules/virtual_human").json()
        assert document["settings"] == {
            "domain": FTT_DOMAINS["test"],
            "environment": "test",
            "app_id": f"{client_id}-vh",
        }
        assert document["revision"] == 0
        prompt = client.get(f"/remote-config/clients/{client_id}/modules/upgrade_prompt").json()
        assert prompt["settings"] == {}


def test_release_service_initial_version(client):
    assert client.get("/releases/services/vh-backend").json() == {
        "service": "vh-backend",
        "deployed_version": "2024.05.14",
        "previous_version": None,
        "deployed_by_key": None,
    }
    assert client.get("/releases/services/unknown").status_code == 404


def test_ota_release_not_pushed(client):
    release = client.get("/ota/releases/wandechu_2_0/2.7.0").json()

    assert release == {"product": "wandechu_2_0", "version": "2.7.0", "pushed": False, "pushed_at": None}
    assert client.get("/ota/releases/wandechu_2_0/9.9.9").status_code == 404


def test_chat_starts_without_messages(client):
    assert client.get("/chat/robot/messages").json() == {"messages": []}


def test_fleet_figures_match_plan(client):
    devices, total = _all_devices(client)
    online = [device for device in devices if device["online"]]
    offline = [device for device in devices if not device["online"]]

    def below_newest(device):
        return parse_version(device["firmware_version"]) < (2, 6, 0)

    offline_below = [device for device in offline if below_newest(device)]
    legacy = [device for device in offline_below if parse_version(device["firmware_version"]) < (2, 4, 0)]

    assert total == 121
    assert len(devices) == 121
    assert len({device["device_id"] for device in devices}) == 121
    assert len(online) == 30
    assert len(offline) == 91
    assert sum(map(below_newest, online)) == 4
    assert len(offline_below) == 82
    assert len(legacy) / len(offline_below) >= 0.9
    assert {device["firmware_version"] for device in devices if not below_newest(device)} == {"2.6.0"}
    assert max(parse_version(device["software_version"]) for device in devices) == (3, 0, 0)
    assert all(device["household"] and device["admin_bound"] for device in devices)
    assert {device["hardware_version"] for device in devices} == {"V2.0"}
    assert {device["model"] for device in devices} == {"DW220"}


def test_fleet_is_deterministic(tmp_path):
    listings = []
    for name in ("first.sqlite3", "second.sqlite3"):
        with TestClient(create_app(str(tmp_path / name)), headers=AUTH_HEADERS) as other:
            listings.append(_all_devices(other)[0])

    assert listings[0] == listings[1]


def test_fleet_paging_limits(client):
    too_large = client.get("/fleet/devices", params={"page_size": 101})
    other_model = client.get("/fleet/devices", params={"model": "DW100"}).json()
    last_page = client.get("/fleet/devices", params={"model": "DW220", "page": 3, "page_size": 50}).json()

    assert too_large.status_code == 422
    assert too_large.json()["detail"][0]["loc"] == ["query", "page_size"]
    assert other_model["total"] == 0
    assert len(last_page["items"]) == 21


def test_control_state_snapshot(client):
    state = client.get("/control/state").json()

    assert state["ftt"]["prod"]["version"] == "4.2.0"
    assert state["pta_records"] == {"test": 37, "prod": 0}
    assert state["fleet"]["total"] == 121
    assert state["fleet"]["online"] == 30
    assert state["settings"] == {"job_duration_seconds": 3.0, "failing_services": []}
    assert state["faults"] == []
    assert state["write_count"] == 0


def test_reset_restores_initial_state(client):
    client.put("/gray-rules/rules/wandechu_app/virtual_human", json={"min_version": "4.4.9"})
    client.post("/ftt/test/reclaim")
    client.post("/chat/robot/send", json={"msgtype": "text", "text": {"content": "测试"}})
    client.put("/control/faults", json=[{"system": "ota", "status": 500}])

    client.post("/control/reset")

    assert client.get("/gray-rules/rules/wandechu_app/virtual_human").json()["min_version"] is None
    assert client.get("/ftt/test/status").json()["reclaimed"] is False
    assert client.get("/chat/robot/messages").json()["messages"] == []
    assert client.get("/ota/releases/wandechu_2_0/2.7.0").status_code == 200
    assert write_count(client) == 0
