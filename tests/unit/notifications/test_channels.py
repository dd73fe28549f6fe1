"""Each robot's payload and signature, checked by the stand-ins that verify them as the vendors document."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from notification_support import TOKEN
from vh_cutover.notifications import channels
from vh_cutover.notifications.channels import ChannelDeliveryError, Recipient, feishu_sign
from vh_cutover.notifications.contacts import Contact
from vh_cutover.rehearsal.routers.robots import feishu_sign as stand_in_feishu_sign

LUYIYE = Recipient("luyiye", "卢一烨", Contact(mobile="13800000004"))
DINGJIAN = Recipient("dingjian", "丁健", Contact(mobile="13800000005", wecom_userid="dingjian", channels=["wecom"]))
SUYINGU_BY_MOBILE = Recipient("suyingu", "苏崯姑", Contact(mobile="13800000008", channels=["wecom"]))
CHENANQI = Recipient("chenanqi", "陈安棋", Contact(feishu_open_id="ou_abc123", channels=["feishu"]))


def _robot_bodies(control, channel: str) -> list[dict]:
    return [m["body"] for m in control.get("/robots/messages", params={"channel": channel}).json()["messages"]]


def test_feishu_sign_follows_formula():
    # Feishu's robot documentation: HMAC-SHA256 keyed by "<timestamp>\n<secret>" over an empty message, base64.
    expected = base64.b64encode(hmac.new(b"1599360473\nsecret", b"", hashlib.sha256).digest()).decode()

    assert feishu_sign(1599360473, "secret") == expected
    assert stand_in_feishu_sign("1599360473", "secret") == expected


def test_dingtalk_signed_markdown_accepted(robots):
    channels.send_dingtalk("vh_chat", "待确认：测试", "### 待确认\n\n请处理", [LUYIYE])

    messages = robots.get("/chat/robot/messages").json()["messages"]
    assert len(messages) == 1
    body = messages[0]["body"]
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == "待确认：测试"
    assert body["at"]["atMobiles"] == ["13800000004"]
    assert "@13800000004" in body["markdown"]["text"]


def test_dingtalk_wrong_secret_rejected_without_leaking(robots, robot_connection, rehearsal_server):
    robot_connection("vh_chat", rehearsal_server + "/chat", secret="SECwrong-secret")

    with pytest.raises(ChannelDeliveryError) as caught:
        channels.send_dingtalk("vh_chat", "标题", "正文", [LUYIYE])

    assert "310000" in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert "SECwrong-secret" not in str(caught.value)
    assert robots.get("/chat/robot/messages").json()["messages"] == []


def test_wecom_markdown_mentions_userid(robots):
    channels.send_wecom("vh_wecom", "步骤开始", "### 步骤开始", [DINGJIAN])

    (body,) = _robot_bodies(robots, "wecom")
    assert body["msgtype"] == "markdown"
    assert "<@dingjian>" in body["markdown"]["content"]


def test_wecom_text_when_mobile_only(robots):
    markdown = "### 步骤开始\n\n**苏崯姑**，请处理。[查看任务](http://localhost:8080/dags/x)"
    channels.send_wecom("vh_wecom", "步骤开始", markdown, [DINGJIAN, SUYINGU_BY_MOBILE])

    (body,) = _robot_bodies(robots, "wecom")
    assert body["msgtype"] == "text"
    assert body["text"]["content"] == "步骤开始\n\n苏崯姑，请处理。查看任务：http://localhost:8080/dags/x"
    assert body["text"]["mentioned_list"] == ["dingjian"]
    assert body["text"]["mentioned_mobile_list"] == ["13800000008"]


def test_wecom_wrong_key_rejected(robots, robot_connection, rehearsal_server):
    robot_connection("vh_wecom", rehearsal_server + "/wecom", password="wrong-key-123")

    with pytest.raises(ChannelDeliveryError) as caught:
        channels.send_wecom("vh_wecom", "标题", "正文", [DINGJIAN])

    assert "93000" in str(caught.value)
    assert "wrong-key-123" not in str(caught.value)


def test_feishu_signed_card_accepted(robots):
    channels.send_feishu("vh_feishu", "待确认：签字", "### 待确认", [CHENANQI])

    (body,) = _robot_bodies(robots, "feishu")
    assert body["msg_type"] == "interactive"
    assert body["card"]["header"]["title"]["content"] == "待确认：签字"
    assert "<at id=ou_abc123></at>" in body["card"]["elements"][0]["content"]
    assert body["sign"] == feishu_sign(int(body["timestamp"]), "feishu-secret-xyz")


def test_feishu_wrong_secret_rejected(robots, robot_connection, rehearsal_server):
    robot_connection("vh_feishu", rehearsal_server + "/feishu", secret="not-the-secret")

    with pytest.raises(ChannelDeliveryError) as caught:
        channels.send_feishu("vh_feishu", "标题", "正文", [CHENANQI])

    assert "19021" in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert _robot_bodies(robots, "feishu") == []


def test_feishu_server_error_hides_token(robots):
    robots.put("/control/faults", json=[{"system": "*", "method": "POST", "path_contains": "/feishu/", "status": 503}])

    with pytest.raises(ChannelDeliveryError) as caught:
        channels.send_feishu("vh_feishu", "标题", "正文", [CHENANQI])

    assert "503" in str(caught.value)
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(("markdown", "expected"), [
    ("### 标题\n\n正文", "标题\n\n正文"),
    ("正文 [日志](http://h/x)", "提醒\n\n正文 日志：http://h/x"),
    ("- **王宇**：完成\n- 陈健：进行中", "提醒\n\n- 王宇：完成\n- 陈健：进行中"),
])
def test_plain_text_table(markdown, expected):
    assert channels.plain_text("提醒", markdown) == expected
