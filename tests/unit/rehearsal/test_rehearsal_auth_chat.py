"""Bearer-token authentication of the system endpoints and the DingTalk-shaped chat robot."""

from __future__ import annotations

import time
import urllib.parse

import pytest
from fastapi.testclient import TestClient
from rehearsal_support import write_count

from vh_cutover.rehearsal.routers.chat import sign_timestamp

MARKDOWN = {
    "msgtype": "markdown",
    "markdown": {"title": "FTT 生产环境升级完成", "text": "### 升级完成\n请各位开始切换域名。"},
    "at": {"atMobiles": [], "atUserIds": ["wangyu"], "isAtAll": False},
}


@pytest.fixture
def anonymous(app):
    with TestClient(app) as test_client:
        yield test_client


def test_missing_token_rejected(anonymous, client):
    response = anonymous.put("/gray-rules/rules/wandechu_app/virtual_human", json={"min_version": "4.4.9"})

    assert response.status_code == 401
    assert "detail" in response.json()
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert write_count(client) == 0


def test_any_token_accepted_without_configured_token(anonymous):
    response = anonymous.get("/ftt/test/health", headers={"Authorization": "Bearer anything"})

    assert response.status_code == 200


def test_configured_token_enforced(anonymous, monkeypatch):
    monkeypatch.setenv("VH_REHEARSAL_TOKEN", "s3cret")

    wrong = anonymous.get("/ftt/test/health", headers={"Authorization": "Bearer other"})
    right = anonymous.get("/ftt/test/health", headers={"Authorization": "Bearer s3cret"})
    basic = anonymous.get("/ftt/test/health", headers={"Authorization": "Basic s3cret"})

    assert wrong.status_code == 401
    assert right.status_code == 200
    assert basic.status_code == 401


def test_control_needs_no_token(anonymous):
    assert anonymous.get("/control/state").status_code == 200
    assert anonymous.get("/chat/robot/messages").status_code == 200


def test_chat_accepts_markdown(anonymous):
    response = anonymous.post("/chat/robot/send", params={"access_token": "robot"}, json=MARKDOWN)
    messages = anonymous.get("/chat/robot/messages").json()["messages"]

    assert response.json() == {"errcode": 0, "errmsg": "ok"}
    assert len(messages) == 1
    assert messages[0]["body"] == MARKDOWN
    assert messages[0]["id"] == 1
    assert messages[0]["received_at"]


def test_chat_accepts_text_with_bearer(client):
    response = client.post("/chat/robot/send", json={"msgtype": "text", "text": {"content": "测试环境已回收"}})

    assert response.json()["errcode"] == 0


def test_chat_access_token_checked(anonymous, monkeypatch):
    monkeypatch.setenv("VH_REHEARSAL_TOKEN", "s3cret")

    wrong = anonymous.post("/chat/robot/send", params={"access_token": "other"}, json=MARKDOWN)
    right = anonymous.post("/chat/robot/send", params={"access_token": "s3cret"}, json=MARKDOWN)

    assert wrong.status_code == 401
    assert right.json()["errcode"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"msgtype": "image"},
        {"msgtype": "markdown", "markdown": {"title": "", "text": "x"}},
        {"msgtype": "text", "text": {}},
        {"msgtype": "text", "text": {"content": "x"}, "at": {"isAtAll": "yes"}},
        ["not", "an", "object"],
    ],
)
def test_chat_malformed_body(client, body):
    response = client.post("/chat/robot/send", json=body)

    assert response.status_code == 200
    assert response.json()["errcode"] == 40035
    assert client.get("/chat/robot/messages").json()["messages"] == []


def test_chat_non_json_body(client):
    response = client.post("/chat/robot/send", content=b"hello", headers={"Content-Type": "text/plain"})

    assert response.json()["errcode"] == 40035


def _signed_params(secret, timestamp_ms):
    sign = sign_timestamp(secret, str(timestamp_ms))
    return f"access_token=robot&timestamp={timestamp_ms}&sign={urllib.parse.quote_plus(sign)}"


def test_chat_signature_valid(client, monkeypatch):
    monkeypatch.setenv("VH_REHEARSAL_CHAT_SECRET", "SECdemo")
    timestamp_ms = int(time.time() * 1000)

    response = client.post(f"/chat/robot/send?{_signed_params('SECdemo', timestamp_ms)}", json=MARKDOWN)

    assert response.json() == {"errcode": 0, "errmsg": "ok"}


def test_chat_signature_wrong_secret(client, monkeypatch):
    monkeypatch.setenv("VH_REHEARSAL_CHAT_SECRET", "SECdemo")
    timestamp_ms = int(time.time() * 1000)

    response = client.post(f"/chat/robot/send?{_signed_params('SECother', timestamp_ms)}", json=MARKDOWN)

    assert response.status_code == 200
    assert response.json()["errcode"] == 310000
    assert client.get("/chat/robot/messages").json()["messages"] == []
    assert write_count(client, "chat") == 0


def test_chat_signature_missing(client, monkeypatch):
    monkeypatch.setenv("VH_REHEARSAL_CHAT_SECRET", "SECdemo")

    response = client.post("/chat/robot/send", json=MARKDOWN)

    assert response.json()["errcode"] == 310000


def test_chat_signature_expired(client, monkeypatch, frozen_clock):
    monkeypatch.setenv("VH_REHEARSAL_CHAT_SECRET", "SECdemo")
    signed_at_ms = int(time.time() * 1000)

    frozen_clock.shift(3600)
    within = client.post(f"/chat/robot/send?{_signed_params('SECdemo', signed_at_ms)}", json=MARKDOWN)
    frozen_clock.shift(1)
    expired = client.post(f"/chat/robot/send?{_signed_params('SECdemo', signed_at_ms)}", json=MARKDOWN)

    assert within.json()["errcode"] == 0
    assert expired.json()["errcode"] == 310000
