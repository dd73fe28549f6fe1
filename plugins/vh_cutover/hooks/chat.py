"""Hook for the DingTalk-shaped chat robot that posts cutover announcements to the owners' group."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Sequence
from typing import Any

from airflow.sdk.log import mask_secret

from vh_cutover.exceptions import ChatDeliveryError, ConnectionConfigError, MalformedResponseError
from vh_cutover.hooks.base import CutoverHttpHook, require_text


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """
    Return the DingTalk robot signature for ``timestamp_ms``, before URL encoding.

    DingTalk signs ``"<timestamp>\\n<secret>"`` with HMAC-SHA256 keyed by the secret and expects the
    base64 digest as the ``sign`` query parameter, which the HTTP client URL-encodes once.
    """
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class ChatRobotHook(CutoverHttpHook):
    """
    Send markdown messages through a DingTalk-shaped group robot.

    The connection password is the robot's access token, sent as the ``access_token`` query
    parameter, never as an ``Authorization`` header. When the connection extra has ``secret``,
    each request is signed with DingTalk's ``timestamp`` and ``sign`` parameters.

    Sending is retried like every other request, so a send whose response timed out may post
    the message twice. A duplicate announcement is preferable to a lost one.

    :param chat_conn_id: connection of the chat robot.
    """

    conn_name_attr = "chat_conn_id"
    default_conn_name = "vh_chat"
    hook_name = "Virtual-human chat robot"
    system = "chat"
    bearer_auth = False

    def __init__(self, chat_conn_id: str = default_conn_name) -> None:
        super().__init__(conn_id=chat_conn_id)
        self.chat_conn_id = chat_conn_id

    def _signing_secret(self) -> str:
        secret = self.settings.extra.get("secret") or ""
        if not isinstance(secret, str):
            raise ConnectionConfigError(self.chat_conn_id, "extra.secret", "must be a string")
        return secret

    def _secrets(self) -> tuple[str, ...]:
        return (self.settings.token, self._signing_secret())

    def _query_params(self) -> dict[str, Any]:
        token = self.settings.token
        if not token:
            raise ConnectionConfigError(self.chat_conn_id, "password", "is missing: set it to the robot's access token")
        mask_secret(token)
        params: dict[str, Any] = {"access_token": token}

        secret = self._signing_secret()
        if secret:
            mask_secret(secret)
            timestamp_ms = int(time.time() * 1000)
            params["timestamp"] = timestamp_ms
            params["sign"] = dingtalk_sign(timestamp_ms, secret)
        return params

    def send_markdown(
        self,
        title: str,
        text: str,
        *,
        at_mobiles: Sequence[str] = (),
        at_user_ids: Sequence[str] = (),
    ) -> None:
        """
        Post one markdown message to the group.

        DingTalk notifies the people in ``at_mobiles`` / ``at_user_ids`` only when the text also
        mentions them as ``@<mobile>`` or ``@<user id>``, and the caller writes those mentions.

        :raises ChatDeliveryError: when the robot returns a non-zero ``errcode``.
        """
        for name, recipients in (("at_mobiles", at_mobiles), ("at_user_ids", at_user_ids)):
            if isinstance(recipients, str):
                raise ValueError(f"{name} must be a list of strings, not one string: {recipients!r}")
        body = {
            "msgtype": "markdown",
            "markdown": {"title": require_text("title", title), "text": require_text("text", text)},
            "at": {"atMobiles": list(at_mobiles), "atUserIds": list(at_user_ids), "isAtAll": False},
        }
        result = self.request_json("POST", "/robot/send", params=self._query_params(), json=body)

        errcode = result.get("errcode")
        if isinstance(errcode, bool) or not isinstance(errcode, int):
            raise MalformedResponseError(
                self.system, "POST", "/robot/send", None, f"field 'errcode' is missing or not an integer: {errcode!r}"
            )
        if errcode != 0:
            raise ChatDeliveryError(errcode, str(result.get("errmsg", "")))
        self.log.info("chat message sent title=%s at_mobiles=%d at_user_ids=%d", title, len(at_mobiles), len(at_user_ids))
