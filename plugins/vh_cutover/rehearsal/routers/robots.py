"""
WeCom and Feishu group robot stand-ins: ``/wecom`` and ``/feishu``.

- ``POST /wecom/cgi-bin/webhook/send?key=K`` checks the key and the body as WeCom's group robot
  documents it (``text`` with ``mentioned_list`` / ``mentioned_mobile_list``, or ``markdown``)
  and responds ``{"errcode": 0, "errmsg": "ok"}``; a wrong key gets errcode 93000.
- ``POST /feishu/open-apis/bot/v2/hook/{token}`` checks the token and, when
  ``VH_REHEARSAL_FEISHU_SECRET`` is set, the body's ``timestamp`` and ``sign`` as Feishu computes
  them; it responds ``{"code": 0, "msg": "success"}`` or Feishu's error codes, with HTTP 200.
- ``GET /robots/messages?channel=C`` lists what was accepted, without auth, for tests.

The key and token must equal ``VH_REHEARSAL_TOKEN`` when that variable is set. Faults can be
injected for the systems ``wecom`` and ``feishu``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import os
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from vh_cutover.rehearsal import clock
from vh_cutover.rehearsal.dependencies import TOKEN_ENV_VAR, FaultInjected, _take_fault, get_store, route_path
from vh_cutover.rehearsal.store import RehearsalStore

log = logging.getLogger(__name__)

FEISHU_SECRET_ENV_VAR = "VH_REHEARSAL_FEISHU_SECRET"
WECOM_INVALID_KEY = 93000
WECOM_INVALID_BODY = 40008
FEISHU_SIGN_MISMATCH = 19021
FEISHU_INVALID_BODY = 9499
FEISHU_INVALID_TOKEN = 19001
MAX_SIGNATURE_AGE_SECONDS = 3600

router = APIRouter(tags=["robots"])


def _token_ok(presented: str | None) -> bool:
    expected = os.environ.get(TOKEN_ENV_VAR)
    if not presented:
        return False
    return not expected or hmac.compare_digest(presented.encode(), expected.encode())


async def _inject_faults(request: Request, system: str) -> None:
    """Apply a fault rule of ``system``, as the other stand-ins do; robot posts are not in the write log."""
    spec = await run_in_threadpool(_take_fault, get_store(request), system, request.method.upper(), route_path(request))
    if spec is None:
        return
    if spec.latency_ms:
        await asyncio.sleep(spec.latency_ms / 1000)
    if spec.malformed or spec.status is not None:
        raise FaultInjected(spec)


def _store(store: RehearsalStore, channel: str, body: dict[str, Any]) -> None:
    with store.transaction(write=True) as conn:
        conn.execute("INSERT INTO robot_messages (channel, received_at, body) VALUES (?, ?, ?)",
                     (channel, clock.now(), json.dumps(body, ensure_ascii=False)))
    log.info("rehearsal robot message stored channel=%s", channel)


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def wecom_body_problem(body: object) -> str | None:
    """Return why a WeCom robot body is malformed, or ``None``."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    msgtype = body.get("msgtype")
    if msgtype == "text":
        text = body.get("text")
        if not isinstance(text, dict) or not isinstance(text.get("content"), str) or not text["content"].strip():
            return "text.content must be a non-empty string"
        for field in ("mentioned_list", "mentioned_mobile_list"):
            if field in text and not _str_list(text[field]):
                return f"text.{field} must be a list of strings"
        return None
    if msgtype == "markdown":
        markdown = body.get("markdown")
        if not isinstance(markdown, dict) or not isinstance(markdown.get("content"), str) or not markdown["content"].strip():
            return "markdown.content must be a non-empty string"
        return None
    return f"msgtype must be text or markdown, got {msgtype!r}"


@router.post("/wecom/cgi-bin/webhook/send")
async def wecom_send(request: Request, store: RehearsalStore = Depends(get_store)) -> JSONResponse:
    """Accept a WeCom group robot message."""
    if not _token_ok(request.query_params.get("key")):
        return JSONResponse({"errcode": WECOM_INVALID_KEY, "errmsg": "invalid webhook url"})
    await _inject_faults(request, "wecom")
    body = await _json_body(request)
    problem = wecom_body_problem(body)
    if problem:
        return JSONResponse({"errcode": WECOM_INVALID_BODY, "errmsg": f"invalid message: {problem}"})
    await run_in_threadpool(_store, store, "wecom", body)
    return JSONResponse({"errcode": 0, "errmsg": "ok"})


def feishu_sign(timestamp: str, secret: str) -> str:
    """Feishu's signature: HMAC-SHA256 keyed by ``"{timestamp}\\n{secret}"`` over nothing, base64."""
    return base64.b64encode(hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()


def feishu_body_problem(body: object) -> str | None:
    """Return why a Feishu robot body is malformed, or ``None``; accepts text, post and interactive."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    msg_type = body.get("msg_type")
    if msg_type == "text":
        content = body.get("content")
        return None if isinstance(content, dict) and isinstance(content.get("text"), str) else "content.text is required"
    if msg_type == "post":
        return None if isinstance(body.get("content"), dict) else "content.post is required"
    if msg_type == "interactive":
        card = body.get("card")
        if not isinstance(card, dict) or not isinstance(card.get("elements"), list) or not card["elements"]:
            return "card.elements must be a non-empty list"
        return None
    return f"msg_type must be text, post or interactive, got {msg_type!r}"


@router.post("/feishu/open-apis/bot/v2/hook/{token}")
async def feishu_send(token: str, request: Request, store: RehearsalStore = Depends(get_store)) -> JSONResponse:
    """Accept a Feishu custom robot message."""
    await _inject_faults(request, "feishu")
    if not _token_ok(token):
        return JSONResponse({"code": FEISHU_INVALID_TOKEN, "msg": "token invalid", "data": {}})
    body = await _json_body(request)
    secret = os.environ.get(FEISHU_SECRET_ENV_VAR)
    if secret:
        timestamp = str(body.get("timestamp", "")) if isinstance(body, dict) else ""
        sign = str(body.get("sign", "")) if isinstance(body, dict) else ""
        fresh = timestamp.isdigit() and abs(clock.now() - int(timestamp)) <= MAX_SIGNATURE_AGE_SECONDS
        if not fresh or not hmac.compare_digest(sign.encode(), feishu_sign(timestamp, secret).encode()):
            log.info("rehearsal robot message rejected channel=feishu reason=signature_mismatch")
            return JSONResponse({"code": FEISHU_SIGN_MISMATCH,
                                 "msg": "sign match fail or timestamp is not within one hour from current time",
                                 "data": {}})
    problem = feishu_body_problem(body)
    if problem:
        return JSONResponse({"code": FEISHU_INVALID_BODY, "msg": f"Bad Request: {problem}", "data": {}})
    await run_in_threadpool(_store, store, "feishu", body)
    return JSONResponse({"code": 0, "msg": "success", "data": {}})


def list_robot_messages(store: RehearsalStore, channel: str | None = None) -> list[dict[str, Any]]:
    """Return the accepted messages, oldest first, optionally of one channel."""
    with store.transaction() as conn:
        if channel:
            rows = conn.execute("SELECT * FROM robot_messages WHERE channel = ? ORDER BY message_id", (channel,)).fetchall()
        else:
            rows = conn.execute("SELECT * FROM robot_messages ORDER BY message_id").fetchall()
    return [{"id": row["message_id"], "channel": row["channel"], "received_at": clock.to_iso(row["received_at"]),
             "body": json.loads(row["body"])} for row in rows]


@router.get("/robots/messages")
def get_robot_messages(channel: str | None = None, store: RehearsalStore = Depends(get_store)) -> dict[str, Any]:
    """Return the WeCom and Feishu messages accepted (no auth; meant for tests)."""
    return {"messages": list_robot_messages(store, channel)}
