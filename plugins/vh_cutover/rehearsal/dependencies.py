"""Request guards shared by every stand-in system: authentication, fault injection, write log.

A system endpoint runs its guard first. The guard rejects a missing or wrong token (401),
then lets fault injection delay or replace the response, then records the request in the write
log when its method changes state. Rejected requests are never recorded.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request, status
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from vh_cutover.rehearsal import clock
from vh_cutover.rehearsal.catalog import FTT_ENVIRONMENTS, WRITE_METHODS, ftt_system_id
from vh_cutover.rehearsal.faults import MALFORMED_BODY, FaultSpec, has_faults, take_fault
from vh_cutover.rehearsal.store import RehearsalStore

log = logging.getLogger(__name__)

TOKEN_ENV_VAR = "VH_REHEARSAL_TOKEN"

RequestCheck = Callable[[Request], Awaitable[None]]


class FaultInjected(Exception):
    """Raised by a guard when fault injection replaces the response to a request."""

    def __init__(self, spec: FaultSpec) -> None:
        self.spec = spec
        super().__init__(f"rehearsal fault status={spec.status} malformed={spec.malformed}")


def fault_response(_request: Request, error: Exception) -> Response:
    """Build the response of an injected fault: a non-JSON 200 or an error status."""
    if not isinstance(error, FaultInjected):
        raise TypeError(f"fault_response handles FaultInjected only, got {type(error).__name__}")
    spec = error.spec
    if spec.malformed:
        return Response(MALFORMED_BODY, status_code=status.HTTP_200_OK, media_type="text/html")

    headers = {"Retry-After": str(spec.retry_after)} if spec.retry_after is not None else None
    return JSONResponse(
        {"detail": f"rehearsal fault injected: HTTP {spec.status}"},
        status_code=spec.status or status.HTTP_503_SERVICE_UNAVAILABLE,
        headers=headers,
    )


def get_store(request: Request) -> RehearsalStore:
    """Return the state store of the app that serves the request."""
    return request.app.state.store


def route_path(request: Request) -> str:
    """Return the request path relative to the stand-in app, without the mount prefix."""
    path: str = request.scope["path"]
    root_path: str = request.scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        return path[len(root_path) :] or "/"
    return path


def _bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _token_accepted(presented: str | None) -> bool:
    if not presented:
        return False
    expected = os.environ.get(TOKEN_ENV_VAR)
    if not expected:
        return True
    return hmac.compare_digest(presented.encode(), expected.encode())


def authenticate(request: Request, *, accept_access_token: bool = False) -> None:
    """Raise 401 unless the request carries an accepted bearer token.

    :param accept_access_token: also accept the token in the ``access_token`` query parameter,
        which is how DingTalk-shaped chat robots authenticate.
    """
    if _token_accepted(_bearer_token(request)):
        return
    if accept_access_token and _token_accepted(request.query_params.get("access_token")):
        return

    log.info("rehearsal request rejected reason=unauthenticated path=%s", route_path(request))
    detail = "missing or invalid bearer token: send 'Authorization: Bearer <token>'"
    if os.environ.get(TOKEN_ENV_VAR):
        detail += f" with the token in {TOKEN_ENV_VAR}"
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def _take_fault(store: RehearsalStore, system: str, method: str, path: str) -> FaultSpec | None:
    with store.transaction() as conn:
        if not has_faults(conn):
            return None
    with store.transaction(write=True) as conn:
        return take_fault(conn, system, method, path)


def _record_write(store: RehearsalStore, system: str, method: str, path: str, body: bytes) -> None:
    text = body.decode("utf-8", errors="replace") if body else None
    with store.transaction(write=True) as conn:
        conn.execute(
            "INSERT INTO writes (system, method, path, body, at) VALUES (?, ?, ?, ?, ?)",
            (system, method, path, text, clock.now()),
        )


def decode_logged_body(text: str | None) -> object:
    """Return a logged request body as JSON when it parses, else as the raw text."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


async def guard_request(
    request: Request,
    system: str,
    *,
    accept_access_token: bool = False,
    after_faults: RequestCheck | None = None,
) -> None:
    """Authenticate, inject faults and record writes for one request to ``system``.

    :param after_faults: extra check run after fault injection and before the write log, so a
        request it rejects is not recorded.
    :raises FaultInjected: when a fault rule responds instead of the endpoint.
    """
    authenticate(request, accept_access_token=accept_access_token)

    store = get_store(request)
    method = request.method.upper()
    path = route_path(request)
    spec = await run_in_threadpool(_take_fault, store, system, method, path)
    if spec is not None:
        if spec.latency_ms:
            await asyncio.sleep(spec.latency_ms / 1000)
        if spec.malformed or spec.status is not None:
            raise FaultInjected(spec)

    if after_faults is not None:
        await after_faults(request)

    if method in WRITE_METHODS:
        body = await request.body()
        await run_in_threadpool(_record_write, store, system, method, path, body)
        log.debug("rehearsal write recorded system=%s method=%s path=%s", system, method, path)


def system_guard(system: str) -> Callable[[Request], Awaitable[None]]:
    """Build the router dependency that guards every endpoint of one system."""

    async def guard(request: Request) -> None:
        await guard_request(request, system)

    return guard


async def ftt_guard(request: Request, environment: str) -> None:
    """Guard an FTT endpoint; the system id comes from the ``environment`` path parameter.

    An unknown environment is only authenticated here; the endpoint's own parameter check then
    responds 422, so the error is reported once.
    """
    if environment not in FTT_ENVIRONMENTS:
        authenticate(request)
        return
    await guard_request(request, ftt_system_id(environment))
