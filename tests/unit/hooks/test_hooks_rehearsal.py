"""Integration tests of every hook against the rehearsal stand-ins served by uvicorn on loopback."""

from __future__ import annotations

import asyncio
import json

import pytest

from vh_cutover.exceptions import ChatDeliveryError, CutoverHttpError, MalformedResponseError, SystemUnreachableError
from vh_cutover.hooks import (
    AsyncCutoverHttpClient,
    ChatRobotHook,
    DeviceFleetHook,
    FttHook,
    GrayRuleHook,
    OtaHook,
    ReleasePipelineHook,
    RemoteConfigHook,
)

PROD_DOMAIN = "https://vh.ftt-rehearsal.example.com"
CHAT_SECRET = "SECrehearsal-signing-secret"


def _set_faults(control, *faults: dict) -> None:
    control.put("/control/faults", json=list(faults)).raise_for_status()


def _write_count(control, system: str) -> int:
    return control.get("/control/writes", params={"system": system}).json()["count"]


def _below(version: str, limit: tuple[int, int, int]) -> bool:
    return tuple(int(part) for part in version.split(".")) < limit


class TestFtt:
    def test_initial_status_of_both_environments(self, rehearsal):
        prod = FttHook().get_status()
        test = FttHook(ftt_conn_id="vh_ftt_test").get_status()
        assert prod["version"] == "4.2.0"
        assert prod["content_revision"] == "2024-03-old"
        assert prod["upgrade"]["state"] == "idle"
        assert test["version"] == "5.0.0"
        assert test["content_revision"] == "2024-04-new"

    def test_health_traffic_handshake(self, rehearsal):
        hook = FttHook(ftt_conn_id="vh_ftt_test")
        assert hook.check_health() is True
        traffic = hook.get_traffic(60)
        assert traffic["by_client"]["wandechu_app"] == 60
        assert FttHook().handshake("wandechu_app", PROD_DOMAIN)["ok"] is True
        assert FttHook().handshake("wandechu_app", "https://wrong.example.com")["ok"] is False

    def test_pta_records_and_sync(self, rehearsal):
        assert FttHook(ftt_conn_id="vh_ftt_test").count_pta_records() == 37
        assert FttHook().count_pta_records() == 0
        assert FttHook(ftt_conn_id="vh_ftt_test").sync_pta("wandechu_2_0", "user-1")["ok"] is True
        assert FttHook().sync_pta("wandechu_2_0", "user-1")["ok"] is False

    def test_reclaim_test_then_unhealthy(self, rehearsal, recorded_sleeps):
        hook = FttHook(ftt_conn_id="vh_ftt_test")
        assert hook.reclaim()["changed"] is True
        assert hook.reclaim()["changed"] is False
        assert hook.check_health() is False

    def test_reclaim_prod_rejected(self, rehearsal):
        with pytest.raises(CutoverHttpError) as excinfo:
            FttHook().reclaim()
        assert excinfo.value.status == 409
        assert _write_count(rehearsal, "ftt_prod") == 1

    def test_wrong_token_not_retried_nor_leaked(self, rehearsal, set_connection, rehearsal_server, recorded_sleeps):
        wrong_token = "wrong-token-5e2b"
        set_connection("vh_ftt_prod", rehearsal_server + "/ftt/prod", wrong_token)
        with pytest.raises(CutoverHttpError) as excinfo:
            FttHook().get_status()
        assert excinfo.value.status == 401
        assert wrong_token not in str(excinfo.value)
        assert recorded_sleeps == []

    def test_async_client_reads_status(self, rehearsal):
        client = AsyncCutoverHttpClient("vh_ftt_prod", system="ftt_prod")
        status = asyncio.run(client.request_json("GET", "/status"))
        assert status["environment"] == "prod"


class TestFaults:
    def test_503_burst_retried(self, rehearsal, recorded_sleeps):
        _set_faults(rehearsal, {"system": "gray_rules", "method": "GET", "path_contains": "/rules/", "status": 503, "count": 2})
        rule = GrayRuleHook().get_rule("wandechu_app", "virtual_human")
        assert rule["min_version"] is None
        assert recorded_sleeps == [0.01, 0.02]

    def test_503_on_write_records_one_write(self, rehearsal, recorded_sleeps):
        _set_faults(rehearsal, {"system": "gray_rules", "method": "PUT", "status": 503, "count": 2})
        GrayRuleHook().put_rule("wandechu_app", "virtual_human", "4.4.9", updated_by="dag", change_key="k1")
        assert _write_count(rehearsal, "gray_rules") == 1

    def test_503_beyond_retries_fails(self, rehearsal, recorded_sleeps):
        _set_faults(rehearsal, {"system": "ota", "status": 503, "count": None})
        with pytest.raises(CutoverHttpError) as excinfo:
            OtaHook().get_release("wandechu_2_0", "2.7.0")
        assert excinfo.value.status == 503
        assert len(recorded_sleeps) == 2

    def test_429_retry_after_honoured(self, rehearsal, set_connection, rehearsal_server, recorded_sleeps):
        set_connection(
            "vh_remote_config",
            rehearsal_server + "/remote-config",
            "rehearsal-hooks-token",
            extra={"backoff_max": 5},
        )
        _set_faults(rehearsal, {"system": "remote_config", "status": 429, "retry_after": 2, "count": 1})
        document = RemoteConfigHook().get_module("wandechu_app", "virtual_human")
        assert document["settings"]["environment"] == "test"
        assert recorded_sleeps == [2.0]

    def test_malformed_body(self, rehearsal):
        _set_faults(rehearsal, {"system": "device_fleet", "malformed": True, "count": 1})
        with pytest.raises(MalformedResponseError) as excinfo:
            next(DeviceFleetHook().iter_devices("DW220"))
        assert excinfo.value.status == 200

    def test_latency_beyond_timeout_retried(self, rehearsal, set_connection, rehearsal_server, recorded_sleeps):
        set_connection("vh_ota", rehearsal_server + "/ota", "rehearsal-hooks-token", extra={"timeout": 0.3})
        _set_faults(rehearsal, {"system": "ota", "latency_ms": 1500, "count": 1})
        assert OtaHook().get_release("wandechu_2_0", "2.7.0")["pushed"] is False
        assert len(recorded_sleeps) == 1

    def test_latency_on_every_attempt_unreachable(self, rehearsal, set_connection, rehearsal_server, recorded_sleeps):
        set_connection("vh_ota", rehearsal_server + "/ota", "rehearsal-hooks-token", extra={"timeout": 0.2, "max_retries": 1})
        _set_faults(rehearsal, {"system": "ota", "latency_ms": 1000, "count": 2})
        with pytest.raises(SystemUnreachableError):
            OtaHook().get_release("wandechu_2_0", "2.7.0")


class TestConfiguration:
    def test_gray_rule_round_trip(self, rehearsal):
        hook = GrayRuleHook()
        first = hook.put_rule("wandechu_app", "virtual_human", "4.4.9", updated_by="dag", change_key="k1")
        again = hook.put_rule("wandechu_app", "virtual_human", "4.4.9", updated_by="dag", change_key="k1")
        assert again["revision"] == first["revision"]
        assert hook.get_rule("wandechu_app", "virtual_human")["min_version"] == "4.4.9"
        assert hook.evaluate("wandechu_app", "virtual_human", "4.3.10") is False
        assert hook.evaluate("wandechu_app", "virtual_human", "4.4.10") is True

    def test_invalid_version_rejected(self, rehearsal):
        with pytest.raises(CutoverHttpError) as excinfo:
            GrayRuleHook().put_rule("wandechu_app", "virtual_human", "4.4", updated_by="dag", change_key="k")
        assert excinfo.value.status == 422

    def test_remote_config_switch(self, rehearsal):
        hook = RemoteConfigHook()
        settings = {"domain": PROD_DOMAIN, "environment": "prod", "app_id": "wandechu_app-vh"}
        stored = hook.put_module("wandechu_app", "virtual_human", settings, updated_by="dag", change_key="switch")
        assert stored["settings"] == settings
        assert hook.get_module("wandechu_app", "virtual_human")["settings"]["environment"] == "prod"


class TestReleasesFleetOta:
    def test_start_job_idempotent_and_finishes(self, rehearsal):
        rehearsal.put("/control/settings", json={"job_duration_seconds": 0}).raise_for_status()
        hook = ReleasePipelineHook()
        assert hook.get_service("vh-backend")["deployed_version"] == "2024.05.14"

        first = hook.start_job("vh-backend", "2024.05.28", idempotency_key="run-1")
        second = hook.start_job("vh-backend", "2024.05.28", idempotency_key="run-1")
        assert first["created"] is True
        assert second["created"] is False
        assert second["job_id"] == first["job_id"]
        assert hook.get_job(first["job_id"])["state"] == "succeeded"
        assert hook.get_service("vh-backend")["deployed_version"] == "2024.05.28"

    def test_unknown_job_is_404(self, rehearsal):
        with pytest.raises(CutoverHttpError) as excinfo:
            ReleasePipelineHook().get_job("no-such-job")
        assert excinfo.value.status == 404

    def test_fleet_figures(self, rehearsal):
        devices = list(DeviceFleetHook().iter_devices("DW220", page_size=50))
        online = [device for device in devices if device["online"]]
        old_online = [device for device in online if _below(device["firmware_version"], (2, 6, 0))]
        old_offline = [
            device for device in devices if not device["online"] and _below(device["firmware_version"], (2, 6, 0))
        ]
        assert len(devices) == 121
        assert len({device["device_id"] for device in devices}) == 121
        assert len(online) == 30
        assert len(old_online) == 4
        assert len(old_offline) == 82

    def test_ota_push(self, rehearsal):
        hook = OtaHook()
        assert hook.get_release("wandechu_2_0", "2.7.0")["pushed"] is False
        rehearsal.post("/control/ota/push", json={"product": "wandechu_2_0", "version": "2.7.0"}).raise_for_status()
        release = hook.get_release("wandechu_2_0", "2.7.0")
        assert release["pushed"] is True
        assert release["pushed_at"]


class TestChat:
    def test_signed_markdown_delivered(self, rehearsal, set_connection, rehearsal_server, monkeypatch):
        monkeypatch.setenv("VH_REHEARSAL_CHAT_SECRET", CHAT_SECRET)
        set_connection("vh_chat", rehearsal_server + "/chat", "rehearsal-hooks-token", extra={"secret": CHAT_SECRET})
        ChatRobotHook().send_markdown("FTT 生产环境升级完成", "### 升级完成\n@13800000000", at_mobiles=["13800000000"])

        messages = rehearsal.get("/chat/robot/messages").json()["messages"]
        assert len(messages) == 1
        body = messages[0]["body"]
        if isinstance(body, str):
            body = json.loads(body)
        assert body["markdown"]["title"] == "FTT 生产环境升级完成"
        assert body["at"]["atMobiles"] == ["13800000000"]

    def test_wrong_secret_raises_delivery_error(self, rehearsal, set_connection, rehearsal_server, monkeypatch):
        monkeypatch.setenv("VH_REHEARSAL_CHAT_SECRET", CHAT_SECRET)
        set_connection("vh_chat", rehearsal_server + "/chat", "rehearsal-hooks-token", extra={"secret": "SECwrong"})
        with pytest.raises(ChatDeliveryError) as excinfo:
            ChatRobotHook().send_markdown("t", "x")
        assert excinfo.value.errcode == 310000
        assert rehearsal.get("/chat/robot/messages").json()["messages"] == []
