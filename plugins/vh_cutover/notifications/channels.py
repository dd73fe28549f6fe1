"""
One sender per channel: DingTalk, WeCom and Feishu group robots, and e-mail.

Which library each channel builds on, and why:

- DingTalk uses the DingTalk provider's ``DingdingHook``: its host comes from the connection, so
  the rehearsal points it at the stand-in. The subclass adds what the hook (provider 3.10.1)
  lacks: the "sign" security setting and a request timeout.
- WeCom and Feishu are built on the HTTP provider's ``HttpHook``. The Apprise plugins for them
  (apprise 2.3.0, ``wecombot`` and ``feishu``) post to fixed public hosts that a connection cannot
  change, the WeCom plugin sends plain text without mentions, and the Feishu plugin cannot sign.
- E-mail uses the SMTP provider's ``SmtpHook``.

Every sender raises :class:`ChannelDeliveryError` with a message from which the robot token and
signing secret have been removed, because that message reaches logs and the run's summary.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
from markdown_it import MarkdownIt

from airflow.providers.dingding.hooks.dingding import DingdingHook
from airflow.providers.http.hooks.http import HttpHook
from airflow.providers.smtp.hooks.smtp import SmtpHook
from airflow.sdk import BaseHook
from airflow.sdk.log import mask_secret

from vh_cutover.exceptions import CutoverError
from vh_cutover.hooks.chat import dingtalk_sign
from vh_cutover.notifications.contacts import Contact

DEFAULT_TIMEOUT_SECONDS = 10.0
_REDACTED = "***"
_DETAIL_MAX_CHARS = 300


class ChannelDeliveryError(CutoverError):
    """Raised when a channel does not accept a message; the message contains no token or secret."""

    def __init__(self, channel: str, detail: str) -> None:
        self.channel = channel
        self.detail = detail
        super().__init__(f"{channel}: {detail}")


@dataclass(frozen=True)
class Recipient:
    """A person a message mentions on one channel."""

    login: str
    name: str
    contact: Contact


def redact(text: str, secrets: Sequence[str]) -> str:
    """Replace each secret, raw or percent-encoded, with ``***`` and shorten the text."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED).replace(quote(secret, safe=""), _REDACTED)
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_MAX_CHARS else text[:_DETAIL_MAX_CHARS] + "..."


def feishu_sign(timestamp_s: int, secret: str) -> str:
    """
    Return the Feishu custom robot signature for ``timestamp_s`` (epoch seconds).

    Feishu uses ``"<timestamp>\\n<secret>"`` as the HMAC-SHA256 key over an empty message and
    expects the base64 digest in the JSON body's ``sign`` field.
    """
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _timeout(extra: dict[str, Any]) -> float:
    try:
        return float(extra.get("timeout", DEFAULT_TIMEOUT_SECONDS))
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT_SECONDS


def _robot_secrets(conn_id: str) -> tuple[str, str, float]:
    """Return the token, signing secret and timeout of a robot connection, masked in task logs."""
    conn = BaseHook.get_connection(conn_id)
    extra = conn.extra_dejson
    token = conn.password or ""
    secret = str(extra.get("secret") or "")
    for value in (token, secret):
        if value:
            mask_secret(value)
    if not token:
        raise ChannelDeliveryError("robot", f"connection {conn_id!r} has no password: set it to the robot's token")
    return token, secret, _timeout(extra)


class _SignedDingdingHook(DingdingHook):
    """``DingdingHook`` with DingTalk's "sign" security setting and a request timeout."""

    def __init__(self, *, secret: str, timeout: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._secret = secret
        self._timeout = timeout

    def _get_endpoint(self) -> str:
        endpoint = super()._get_endpoint()
        if not self._secret:
            return endpoint
        timestamp_ms = int(time.time() * 1000)
        sign = quote(dingtalk_sign(timestamp_ms, self._secret), safe="")
        return f"{endpoint}&timestamp={timestamp_ms}&sign={sign}"

    def get_conn(self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None):
        session = super().get_conn(headers=headers, extra_options=extra_options)
        # DingdingHook.get_conn ignores the connection's extra, so without this no timeout applies.
        self.merged_extra = {"timeout": self._timeout}
        return session


def send_dingtalk(conn_id: str, title: str, text: str, recipients: Sequence[Recipient]) -> None:
    """Post a markdown message to a DingTalk group robot, mentioning recipients by mobile."""
    token, secret, timeout = _robot_secrets(conn_id)
    mobiles = [r.contact.mobile for r in recipients if r.contact.mobile]
    mentions = " ".join(f"@{mobile}" for mobile in mobiles)
    hook = _SignedDingdingHook(
        dingding_conn_id=conn_id, message_type="markdown",
        message={"title": title, "text": f"{text}\n\n{mentions}" if mentions else text},
        at_mobiles=mobiles, secret=secret, timeout=timeout,
    )
    try:
        hook.send()
    except Exception as error:
        # DingdingHook raises AirflowException for HTTP and errcode failures and lets requests'
        # errors through; their text may quote the URL with the access token.
        raise ChannelDeliveryError("dingtalk", redact(f"{type(error).__name__}: {error}", (token, secret))) from None


def _post_json(channel: str, conn_id: str, endpoint: str, body: dict[str, Any], *, params: dict[str, str] | None,
               secrets: Sequence[str], timeout: float) -> dict[str, Any]:
    hook = HttpHook(method="POST", http_conn_id=conn_id)
    try:
        response = hook.run(
            endpoint=endpoint, data=json.dumps(body, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json; charset=utf-8"},
            extra_options={"timeout": timeout}, params=params,
        )
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise ChannelDeliveryError(channel, redact(f"{type(error).__name__}: {error}", secrets)) from None
    except Exception as error:
        # HttpHook.check_response raises AirflowException("<status>:<reason>") for non-2xx.
        raise ChannelDeliveryError(channel, redact(f"HTTP {error}", secrets)) from None
    if not isinstance(document, dict):
        raise ChannelDeliveryError(channel, f"response is not a JSON object: {redact(str(document), secrets)!r}")
    return document


_HEADING = re.compile(r"^#{1,6}\s*", re.MULTILINE)
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_STRONG = re.compile(r"\*\*(.+?)\*\*")


def plain_text(title: str, markdown: str) -> str:
    """
    Return a markdown message as plain text, for a channel that shows text as it is.

    Heading marks and emphasis are dropped and a link becomes ``label：url``. The title leads
    the text unless the message opens with a heading of its own.
    """
    text = _HEADING.sub("", _STRONG.sub(r"\1", _LINK.sub(r"\1：\2", markdown)))
    return text if markdown.lstrip().startswith("#") else f"{title}\n\n{text}"


def send_wecom(conn_id: str, title: str, text: str, recipients: Sequence[Recipient]) -> None:
    """
    Post a message to a WeCom group robot, mentioning recipients.

    WeCom mentions by user id inside markdown (``<@userid>``) but by mobile only in text messages,
    so a markdown message is sent unless a recipient can only be mentioned by mobile.
    """
    key, _secret, timeout = _robot_secrets(conn_id)
    by_userid = [r.contact.wecom_userid for r in recipients if r.contact.wecom_userid]
    by_mobile = [r.contact.mobile for r in recipients if not r.contact.wecom_userid and r.contact.mobile]
    if by_mobile:
        body: dict[str, Any] = {
            "msgtype": "text",
            "text": {"content": plain_text(title, text), "mentioned_list": by_userid,
                     "mentioned_mobile_list": by_mobile},
        }
    else:
        mentions = " ".join(f"<@{userid}>" for userid in by_userid)
        body = {"msgtype": "markdown", "markdown": {"content": f"{text}\n\n{mentions}" if mentions else text}}

    result = _post_json("wecom", conn_id, "cgi-bin/webhook/send", body, params={"key": key}, secrets=(key,),
                        timeout=timeout)
    if result.get("errcode") != 0:
        raise ChannelDeliveryError("wecom", f"errcode={result.get('errcode')!r} errmsg={redact(str(result.get('errmsg')), (key,))}")


def send_feishu(conn_id: str, title: str, text: str, recipients: Sequence[Recipient]) -> None:
    """Post an interactive card with markdown to a Feishu group robot, mentioning recipients by open_id."""
    token, secret, timeout = _robot_secrets(conn_id)
    mentions = " ".join(f"<at id={r.contact.feishu_open_id}></at>" for r in recipients if r.contact.feishu_open_id)
    body: dict[str, Any] = {
        "msg_type": "interactive",
        "card": {
            "header": {"title": {"tag": "plain_text", "content": title}},
            "elements": [{"tag": "markdown", "content": f"{text}\n\n{mentions}" if mentions else text}],
        },
    }
    if secret:
        timestamp_s = int(time.time())
        body["timestamp"] = str(timestamp_s)
        body["sign"] = feishu_sign(timestamp_s, secret)

    result = _post_json("feishu", conn_id, f"open-apis/bot/v2/hook/{token}", body, params=None,
                        secrets=(token, secret), timeout=timeout)
    code = result.get("code", result.get("StatusCode"))
    if code != 0:
        raise ChannelDeliveryError("feishu", f"code={code!r} msg={redact(str(result.get('msg')), (token, secret))}")


def send_email(conn_id: str, title: str, text: str, recipients: Sequence[Recipient]) -> None:
    """Send one e-mail to every recipient's address; the markdown text becomes the HTML body."""
    addresses = [r.contact.email for r in recipients if r.contact.email]
    if not addresses:
        return
    html = MarkdownIt("commonmark", {"linkify": False}).render(text)
    conn = BaseHook.get_connection(conn_id)
    password = conn.password or ""
    if password:
        mask_secret(password)
    try:
        with SmtpHook(smtp_conn_id=conn_id) as hook:
            hook.send_email_smtp(to=addresses, subject=title, html_content=html, mime_charset="utf-8")
    except Exception as error:
        # SmtpHook raises smtplib, socket and AirflowException errors alike.
        raise ChannelDeliveryError("email", redact(f"{type(error).__name__}: {error}", (password,))) from None


SENDERS = {"dingtalk": send_dingtalk, "wecom": send_wecom, "feishu": send_feishu, "email": send_email}
