"""DingTalk-shaped chat robot stand-in: ``/chat``.

``POST /robot/send`` behaves like a DingTalk custom robot: it authenticates with the
``access_token`` query parameter (a bearer token also works) and, when
``VH_REHEARSAL_CHAT_SECRET`` is set, checks DingTalk's signature. Like DingTalk, it responds
HTTP 200 with an ``errcode`` for a bad signature or a malformed body.
``GET /robot/messages`` lists what was received, without auth, for tests.
"""

from __future__ import annotations

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
from vh_cutover.rehearsal.dependencies import get_store, guard_request
from vh_cutover.rehearsal.store import RehearsalStore

log = logging.getLogger(__name__)

CHAT_SECRET_ENV_VAR = "VH_REHEARSAL_CHAT_SECRET"
ERRCODE_OK = 0
ERRCODE_SIGN_MISMATCH = 310000
ERRCODE_INVALID_BODY = 40035
MAX_SIGNATURE_AGE_MS = 3_600_000

router = APIRouter(prefix="/chat", tags=["chat"])


class ChatRejected(Exception):
    """Raised when the robot rejects a message; DingTalk reports this as HTTP 200 with an errcode."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        self.errcode = errcode
        self.errmsg = errmsg
        super().__init__(f"errcode={errcode} errmsg={errmsg}")


def chat_rejected_response(_request: Request, error: Exception) -> JSONResponse:
    """Build the DingTalk response to a rejected message: HTTP 200 with ``errcode`` and ``errmsg``."""
    if not isinstance(error, ChatRejected):
        raise TypeError(f"chat_rejected_response handles ChatRejected only, got {type(error).__name__}")
    return JSONResponse({"errcode": error.errcode, "errmsg": error.errmsg})


def sign_timestamp(secret: str, timestamp: str) -> str:
    """Compute DingTalk's signature: base64 of HMAC-SHA256 over ``"{timestamp}\\n{secret}"`` keyed by the secret.

    The caller URL-encodes the result when it puts it in the query string.
    """
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


async def _verify_signature(request: Request) -> None:
    secret = os.environ.get(CHAT_SECRET_ENV_VAR)
    if not secret:
        return

    timestamp = request.query_params.get("timestamp")
    sign = request.query_params.get("sign")
    if not timestamp or not sign:
        raise ChatRejected(ERRCODE_SIGN_MISMATCH, "sign not match: timestamp and sign query parameters are required")
    try:
        timestamp_ms = int(timestamp)
    except ValueError as error:
        raise ChatRejected(ERRCODE_SIGN_MISMATCH, f"invalid timestamp {timestamp!r}: expected epoch milliseconds") from error
    age_ms = abs(clock.now() * 1000 - timestamp_ms)
    if age_ms > MAX_SIGNATURE_AGE_MS:
        raise ChatRejected(
            ERRCODE_SIGN_MISMATCH, f"invalid timestamp {timestamp}: more than one hour from the server time"
        )
    if not hmac.compare_digest(sign.encode(), sign_timestamp(secret, timestamp).encode()):
        log.info("rehearsal chat message rejected reason=signature_mismatch timestamp=%s", timestamp)
        raise ChatRejected(ERRCODE_SIGN_MISMATCH, "sign not match")


async def chat_send_guard(request: Request) -> None:
    """Guard ``POST /robot/send``: token, faults, signature, then the write log."""
    await guard_request(request, "chat", accept_access_token=True, after_faults=_verify_signature)


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_text_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def find_body_problem(body: object) -> str | None:
    """Return why a robot message body is malformed, or ``None`` when it is a valid text or markdown message."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"

    msgtype = body.get("msgtype")
    if msgtype == "text":
        text = body.get("text")
        if not isinstance(text, dict) or not _is_text(text.get("content")):
            return "text.content must be a non-empty string"
    elif msgtype == "markdown":
        markdown = body.get("markdown")
        if not isinstance(markdown, dict):
            return "markdown must be an object with title and text"
        for field in ("title", "text"):
            if not _is_text(markdown.get(field)):
                return f"markdown.{field} must be a non-empty string"
    else:
        return f"msgtype must be 'text' or 'markdown', got {msgtype!r}"

    at = body.get("at")
    if at is None:
        return None
    if not isinstance(at, dict):
        return "at must be an object"
    for field in ("atMobiles", "atUserIds"):
        if field in at and not _is_text_list(at[field]):
            return f"at.{field} must be a list of strings"
    if "isAtAll" in at and not isinstance(at["isAtAll"], bool):
        return "at.isAtAll must be true or false"
    return None


def _store_message(store: RehearsalStore, body: dict[str, Any]) -> None:
    with store.transaction(write=True) as conn:
        conn.execute(
            "INSERT INTO chat_messages (received_at, body) VALUES (?, ?)",
            (clock.now(), json.dumps(body, ensure_ascii=False)),
        )
    log.info("rehearsal chat message stored msgtype=%s", body["msgtype"])


@router.post("/robot/send", dependencies=[Depends(chat_send_guard)])
async def send_message(request: Request, store: RehearsalStore = Depends(get_store)) -> dict[str, Any]:
    """Store a robot message and return ``errcode`` 0, or 40035 when the body is malformed."""
    raw = await request.body()
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    problem = find_body_problem(body) if body is not None else "the body is not valid JSON"
    if problem is not None:
        log.info("rehearsal chat message rejected reason=invalid_body problem=%s", problem)
        raise ChatRejected(ERRCODE_INVALID_BODY, f"invalid message body: {problem}")

    await run_in_threadpool(_store_message, store, body)
    return {"errcode": ERRCODE_OK, "errmsg": "ok"}


def list_messages(store: RehearsalStore) -> list[dict[str, Any]]:
    """Return every received message, oldest first."""
    with store.transaction() as conn:
        rows = conn.execute("SELECT * FROM chat_messages ORDER BY message_id").fetchall()
    return [
        {"id": row["message_id"], "received_at": clock.to_iso(row["received_at"]), "body": json.loads(row["body"])}
        for row in rows
    ]


@router.get("/robot/messages")
def get_messages(store: RehearsalStore = Depends(get_store)) -> dict[str, Any]:
    """Return every message the robot accepted (no auth; meant for tests)."""
    return {"messages": list_messages(store)}
