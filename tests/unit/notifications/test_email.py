"""E-mail through the SMTP provider to a real SMTP server on loopback, read back intact."""

from __future__ import annotations

import email
import email.header
import email.policy
import json
import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from vh_cutover.notifications import channels
from vh_cutover.notifications.channels import ChannelDeliveryError, Recipient
from vh_cutover.notifications.contacts import Contact


class _Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[email.message.Message] = []

    def handle_message(self, message: email.message.Message) -> None:
        self.messages.append(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch):
    handler = _Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    document = {"conn_type": "smtp", "host": "127.0.0.1", "port": controller.port,
                "extra": {"from_email": "cutover@example.com", "disable_tls": True, "disable_ssl": True,
                          "timeout": 5, "retry_limit": 0}}
    monkeypatch.setenv("AIRFLOW_CONN_VH_SMTP", json.dumps(document))
    try:
        yield handler
    finally:
        controller.stop()


def test_email_chinese_subject_and_body(inbox):
    recipient = Recipient("wangyu", "王宇", Contact(email="wangyu@example.com", channels=["email"]))

    channels.send_email("vh_smtp", "切换总结：切换完成", "### 切换总结\n\n- 万得厨APP 已切换到生产环境", [recipient])

    (message,) = inbox.messages
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert subject == "切换总结：切换完成"
    assert message["X-RcptTo"] == "wangyu@example.com"
    parsed = email.message_from_string(message.as_string(), policy=email.policy.default)
    html = next(part for part in parsed.walk() if part.get_content_type() == "text/html").get_content()
    assert "<h3>切换总结</h3>" in html
    assert "万得厨APP 已切换到生产环境" in html


def test_email_unreachable_server_raises_channel_error(monkeypatch):
    document = {"conn_type": "smtp", "host": "127.0.0.1", "port": _free_port(), "password": "smtp-pass-999",
                "extra": {"from_email": "cutover@example.com", "disable_tls": True, "disable_ssl": True,
                          "timeout": 2, "retry_limit": 0}}
    monkeypatch.setenv("AIRFLOW_CONN_VH_SMTP", json.dumps(document))
    recipient = Recipient("wangyu", "王宇", Contact(email="wangyu@example.com", channels=["email"]))

    with pytest.raises(ChannelDeliveryError) as caught:
        channels.send_email("vh_smtp", "标题", "正文", [recipient])

    assert "smtp-pass-999" not in str(caught.value)
