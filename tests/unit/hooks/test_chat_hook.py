"""Unit tests of ChatRobotHook: DingTalk signing, token placement, errcode handling and redaction."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import time_machine

from vh_cutover.exceptions import ChatDeliveryError, ConnectionConfigError, CutoverHttpError
from vh_cutover.hooks.chat import ChatRobotHook, dingtalk_sign

CHAT_URL = "http://127.0.0.1:9/chat"
ACCESS_TOKEN = "robot-token-4f1c9e"
SECRET = "SEC0123456789abcdef"
# Computed outside Python with:
#   printf '1700000000000\nSEC0123456789abcdef' | openssl dgst -sha256 -hmac 'SEC0123456789abcdef' -binary | base64
KNOWN_TIMESTAMP_MS = 1700000000000
KNOWN_SIGN = "TSZbRFUuvaSQaRKUpF970OPCb2/LcQAP3wOvwZIzBZk="


def _raw_query(request) -> dict[str, list[str]]:
    # requests-mock lowercases .qs, so parse the URL itself to compare case-sensitive values.
    return parse_qs(urlsplit(request.url).query)


@pytest.fixture
def chat(set_connection) -> ChatRobotHook:
    set_connection("vh_chat", CHAT_URL, ACCESS_TOKEN, extra={"secret": SECRET})
    return ChatRobotHook()


def test_defaults():
    assert ChatRobotHook().chat_conn_id == "vh_chat"
    assert ChatRobotHook.conn_name_attr == "chat_conn_id"
    assert ChatRobotHook.conn_type == "http"


def test_sign_matches_known_vector():
    assert dingtalk_sign(KNOWN_TIMESTAMP_MS, SECRET) == KNOWN_SIGN


def test_send_markdown_signed_request(chat, requests_mock):
    requests_mock.post(f"{CHAT_URL}/robot/send", json={"errcode": 0, "errmsg": "ok"})
    moment = dt.datetime.fromtimestamp(KNOWN_TIMESTAMP_MS / 1000, tz=dt.timezone.utc)
    with time_machine.travel(moment, tick=False):
        chat.send_markdown("FTT 升级完成", "### 生产环境已升级\n@13800000000", at_mobiles=["13800000000"])

    sent = requests_mock.last_request
    query = _raw_query(sent)
    assert query["access_token"] == [ACCESS_TOKEN]
    assert query["timestamp"] == [str(KNOWN_TIMESTAMP_MS)]
    assert query["sign"] == [KNOWN_SIGN]
    # On the wire the sign is URL-encoded exactly once ("+" and "/" and "=" escaped).
    assert "sign=TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D" in sent.url
    assert "Authorization" not in sent.headers
    assert sent.json() == {
        "msgtype": "markdown",
        "markdown": {"title": "FTT 升级完成", "text": "### 生产环境已升级\n@13800000000"},
        "at": {"atMobiles": ["13800000000"], "atUserIds": [], "isAtAll": False},
    }


def test_unsigned_without_secret(set_connection, requests_mock):
    set_connection("vh_chat", CHAT_URL, ACCESS_TOKEN)
    requests_mock.post(f"{CHAT_URL}/robot/send", json={"errcode": 0, "errmsg": "ok"})
    ChatRobotHook().send_markdown("t", "x", at_user_ids=["u1"])
    query = _raw_query(requests_mock.last_request)
    assert set(query) == {"access_token"}
    assert requests_mock.last_request.json()["at"]["atUserIds"] == ["u1"]


def test_nonzero_errcode_raises(chat, requests_mock):
    requests_mock.post(f"{CHAT_URL}/robot/send", json={"errcode": 40035, "errmsg": "invalid body"})
    with pytest.raises(ChatDeliveryError) as excinfo:
        chat.send_markdown("t", "x")
    assert excinfo.value.errcode == 40035
    assert requests_mock.call_count == 1


def test_missing_access_token_rejected(set_connection):
    set_connection("vh_chat", CHAT_URL, None)
    with pytest.raises(ConnectionConfigError, match="password"):
        ChatRobotHook().send_markdown("t", "x")


def test_single_string_recipient_rejected(chat):
    with pytest.raises(ValueError, match="at_mobiles"):
        chat.send_markdown("t", "x", at_mobiles="13800000000")


def test_token_and_secret_absent_from_errors(chat, requests_mock, recorded_sleeps):
    leaky = f"connection refused for {CHAT_URL}/robot/send?access_token={ACCESS_TOKEN}&secret={SECRET}"
    requests_mock.post(f"{CHAT_URL}/robot/send", exc=requests.ConnectionError(leaky))
    with pytest.raises(CutoverHttpError) as excinfo:
        chat.send_markdown("t", "x")
    message = str(excinfo.value)
    assert ACCESS_TOKEN not in message
    assert SECRET not in message
    assert "/robot/send" in message
