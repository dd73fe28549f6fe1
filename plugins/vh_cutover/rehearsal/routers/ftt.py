"""FTT admin backend stand-in, test and production environments: ``/ftt/{environment}``.

The production upgrade is started through the control API and finishes lazily: every read
first settles an upgrade whose duration has passed, using the stored start time.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from vh_cutover.rehearsal import clock
from vh_cutover.rehearsal.catalog import CLIENT_IDS, FTT_DOMAINS, ClientId, FttEnvironment
from vh_cutover.rehearsal.dependencies import ftt_guard, get_store
from vh_cutover.rehearsal.store import RehearsalStore

log = logging.getLogger(__name__)

MAX_TRAFFIC_WINDOW_SECONDS = 86_400

router = APIRouter(prefix="/ftt/{environment}", tags=["ftt"], dependencies=[Depends(ftt_guard)])


class PtaSyncRequest(BaseModel):
    """Body of ``POST /pta/sync``."""

    model_config = ConfigDict(extra="forbid")

    client: ClientId
    user_id: str = Field(min_length=1)


def settle_upgrades(conn: sqlite3.Connection, now: float) -> None:
    """Finish every running upgrade whose duration has passed; the caller holds the write lock."""
    rows = conn.execute("SELECT * FROM ftt_environments WHERE upgrade_state = 'running'").fetchall()
    for row in rows:
        finished_at = row["upgrade_started_at"] + row["upgrade_duration_seconds"]
        if now < finished_at:
            continue

        if row["upgrade_outcome"] == "succeed":
            message = (
                f"upgraded to version {row['upgrade_target_version']}"
                f" with content {row['upgrade_target_revision']}"
            )
            conn.execute(
                "UPDATE ftt_environments SET version = ?, content_revision = ?, upgrade_state = 'succeeded',"
                " upgrade_finished_at = ?, upgrade_message = ? WHERE environment = ?",
                (
                    row["upgrade_target_version"],
                    row["upgrade_target_revision"],
                    finished_at,
                    message,
                    row["environment"],
                ),
            )
        else:
            message = (
                f"upgrade to version {row['upgrade_target_version']} failed;"
                f" the environment still runs version {row['version']}"
            )
            conn.execute(
                "UPDATE ftt_environments SET upgrade_state = 'failed', upgrade_finished_at = ?,"
                " upgrade_message = ? WHERE environment = ?",
                (finished_at, message, row["environment"]),
            )
        log.info("rehearsal ftt upgrade finished environment=%s outcome=%s", row["environment"], row["upgrade_outcome"])


def start_upgrade(conn: sqlite3.Connection, now: float, outcome: str, duration_seconds: float) -> dict[str, Any]:
    """Start the vendor's production upgrade to the test environment's content.

    :raises HTTPException: 409 while an upgrade is still running.
    """
    settle_upgrades(conn, now)
    prod = conn.execute("SELECT * FROM ftt_environments WHERE environment = 'prod'").fetchone()
    if prod["upgrade_state"] == "running":
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"an upgrade to version {prod['upgrade_target_version']} is already running",
        )

    test = conn.execute("SELECT * FROM ftt_environments WHERE environment = 'test'").fetchone()
    conn.execute(
        "UPDATE ftt_environments SET upgrade_state = 'running', upgrade_target_version = ?,"
        " upgrade_target_revision = ?, upgrade_outcome = ?, upgrade_duration_seconds = ?,"
        " upgrade_started_at = ?, upgrade_finished_at = NULL, upgrade_message = '' WHERE environment = 'prod'",
        (test["version"], test["content_revision"], outcome, duration_seconds, now),
    )
    log.info(
        "rehearsal ftt upgrade started target_version=%s outcome=%s duration_seconds=%s",
        test["version"],
        outcome,
        duration_seconds,
    )
    return read_status(conn, "prod")


def read_status(conn: sqlite3.Connection, environment: str) -> dict[str, Any]:
    """Return the ``GET /status`` document of one environment."""
    row = conn.execute("SELECT * FROM ftt_environments WHERE environment = ?", (environment,)).fetchone()
    return {
        "environment": environment,
        "version": row["version"],
        "content_revision": row["content_revision"],
        "healthy": not row["reclaimed"],
        "reclaimed": bool(row["reclaimed"]),
        "reclaim_key": row["reclaim_key"],
        "upgrade": {
            "state": row["upgrade_state"],
            "target_version": row["upgrade_target_version"],
            "started_at": clock.to_iso(row["upgrade_started_at"]),
            "finished_at": clock.to_iso(row["upgrade_finished_at"]),
            "message": row["upgrade_message"],
        },
    }


def virtual_human_environments(conn: sqlite3.Connection) -> dict[str, str | None]:
    """Return the FTT environment each client's ``virtual_human`` module names."""
    rows = conn.execute("SELECT client, settings FROM remote_config WHERE module = 'virtual_human'").fetchall()
    environments: dict[str, str | None] = dict.fromkeys(CLIENT_IDS)
    for row in rows:
        environments[row["client"]] = json.loads(row["settings"]).get("environment")
    return environments


def _settled_status(store: RehearsalStore, environment: str) -> dict[str, Any]:
    with store.transaction(write=True) as conn:
        settle_upgrades(conn, clock.now())
        return read_status(conn, environment)


@router.get("/status")
def get_status(environment: FttEnvironment, store: RehearsalStore = Depends(get_store)) -> dict[str, Any]:
    """Return version, content revision, health and upgrade progress of the environment."""
    return _settled_status(store, environment)


@router.get("/health", response_model=None)
def get_health(environment: FttEnvironment, store: RehearsalStore = Depends(get_store)) -> dict[str, str] | JSONResponse:
    """Return ``ok``, or 503 once the environment is reclaimed."""
    with store.transaction() as conn:
        row = conn.execute("SELECT reclaimed FROM ftt_environments WHERE environment = ?", (environment,)).fetchone()
    if row["reclaimed"]:
        return JSONResponse({"status": "reclaimed"}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
    return {"status": "ok"}


@router.get("/traffic")
def get_traffic(
    environment: FttEnvironment,
    window_seconds: int = Query(60, ge=1, le=MAX_TRAFFIC_WINDOW_SECONDS),
    store: RehearsalStore = Depends(get_store),
) -> dict[str, Any]:
    """Return SDK requests in the window: one per second for each client pointed at the environment."""
    with store.transaction() as conn:
        pointed = virtual_human_environments(conn)

    by_client = {client: window_seconds if env == environment else 0 for client, env in pointed.items()}
    return {
        "environment": environment,
        "window_seconds": window_seconds,
        "requests": sum(by_client.values()),
        "by_client": by_client,
    }


@router.get("/sdk/handshake")
def get_handshake(
    environment: FttEnvironment,
    client: ClientId,
    domain: str = Query(min_length=1),
    store: RehearsalStore = Depends(get_store),
) -> dict[str, Any]:
    """Return the handshake result a client SDK gets when it calls ``domain`` on this environment."""
    current = _settled_status(store, environment)

    expected_domain = FTT_DOMAINS[environment]
    reason = None
    if current["reclaimed"]:
        reason = f"the {environment} environment has been reclaimed"
    elif domain.rstrip("/") != expected_domain:
        reason = f"domain {domain!r} is not the {environment} environment's domain {expected_domain!r}"

    result: dict[str, Any] = {
        "client": client,
        "domain": domain,
        "environment": environment,
        "content_revision": current["content_revision"],
        "ok": reason is None,
    }
    if reason is not None:
        result["reason"] = reason
    return result


@router.get("/pta/records")
def get_pta_records(
    environment: FttEnvironment,
    created_before: datetime | None = None,
    store: RehearsalStore = Depends(get_store),
) -> dict[str, Any]:
    """Count the PTA records kept on this environment, optionally only those created before a time."""
    query = "SELECT COUNT(*) FROM pta_records WHERE environment = ?"
    params: list[Any] = [environment]
    if created_before is not None:
        if created_before.tzinfo is None:
            created_before = created_before.replace(tzinfo=timezone.utc)
        query += " AND created_at < ?"
        params.append(created_before.timestamp())

    with store.transaction() as conn:
        count = conn.execute(query, params).fetchone()[0]
    return {"environment": environment, "count": count}


@router.post("/pta/sync")
def post_pta_sync(
    environment: FttEnvironment,
    body: PtaSyncRequest,
    store: RehearsalStore = Depends(get_store),
) -> dict[str, Any]:
    """Run a PTA sync round trip; it works only while Shadow World's backend points here."""
    with store.transaction() as conn:
        reclaimed = conn.execute(
            "SELECT reclaimed FROM ftt_environments WHERE environment = ?", (environment,)
        ).fetchone()["reclaimed"]
        shadow_world_environment = virtual_human_environments(conn)["shadow_world"]

    reason = None
    if reclaimed:
        reason = f"the {environment} environment has been reclaimed"
    elif shadow_world_environment != environment:
        reason = (
            f"the Shadow World backend points at the {shadow_world_environment} environment,"
            f" not at {environment}"
        )

    result: dict[str, Any] = {"ok": reason is None, "environment": environment, "client": body.client}
    if reason is not None:
        result["reason"] = reason
    log.info("rehearsal pta sync environment=%s client=%s ok=%s", environment, body.client, reason is None)
    return result


class ReclaimRequest(BaseModel):
    """Optional body of ``POST /reclaim``: the caller's change key, kept with the reclaim."""

    model_config = ConfigDict(extra="forbid")

    change_key: str | None = Field(default=None, min_length=1, max_length=200)


@router.post("/reclaim")
def post_reclaim(environment: FttEnvironment, body: ReclaimRequest | None = None,
                 store: RehearsalStore = Depends(get_store)) -> dict[str, Any]:
    """
    Reclaim the test environment; a second call changes nothing. Production cannot be reclaimed (409).

    The first call's ``change_key`` is stored and shown as ``reclaim_key`` in the status.
    """
    if environment != "test":
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"only the test environment can be reclaimed, got {environment!r}",
        )

    with store.transaction(write=True) as conn:
        changed = conn.execute(
            "UPDATE ftt_environments SET reclaimed = 1, reclaimed_at = ?, reclaim_key = ?"
            " WHERE environment = ? AND reclaimed = 0",
            (clock.now(), body.change_key if body else None, environment),
        ).rowcount == 1
    if changed:
        log.info("rehearsal ftt environment reclaimed environment=%s", environment)
    return {"environment": environment, "reclaimed": True, "changed": changed}
