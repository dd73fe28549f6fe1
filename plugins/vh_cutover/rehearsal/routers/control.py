"""Control API of the rehearsal: ``/control``. No auth, no faults, no write log.

Tests and the rehearsal operator use it to reset the state, play the vendor and the OTA
team, tune the release pipeline, inject faults and read the final state.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from vh_cutover.rehearsal import clock
from vh_cutover.rehearsal.catalog import CLIENT_IDS, FTT_ENVIRONMENTS, MODULE_IDS, SYSTEM_IDS, ClientId
from vh_cutover.rehearsal.dependencies import decode_logged_body, get_store
from vh_cutover.rehearsal.faults import FaultSpec, list_faults, replace_faults
from vh_cutover.rehearsal.models import Version, invalid_field
from vh_cutover.rehearsal.routers.ftt import read_status, settle_upgrades, start_upgrade
from vh_cutover.rehearsal.routers.gray_rules import read_rule
from vh_cutover.rehearsal.routers.ota import push_release, read_release
from vh_cutover.rehearsal.routers.releases import read_job, settle_jobs
from vh_cutover.rehearsal.routers.remote_config import read_module_config
from vh_cutover.rehearsal.store import RehearsalStore, read_settings, write_settings

log = logging.getLogger(__name__)

router = APIRouter(prefix="/control", tags=["control"])


class UpgradeRequest(BaseModel):
    """Body of ``POST /ftt/upgrade``."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["succeed", "fail"] = "succeed"
    duration_seconds: float = Field(default=5.0, ge=0, description="Seconds until the upgrade finishes.")


class OtaPushRequest(BaseModel):
    """Body of ``POST /ota/push``."""

    model_config = ConfigDict(extra="forbid")

    product: ClientId
    version: Version


class SettingsUpdate(BaseModel):
    """Body of ``PUT /settings``; a field left out keeps its current value."""

    model_config = ConfigDict(extra="forbid")

    job_duration_seconds: float | None = Field(default=None, ge=0, description="Seconds a release job runs.")
    failing_services: list[str] | None = Field(default=None, description="Services whose new jobs fail.")


def _fleet_summary(conn: sqlite3.Connection) -> dict[str, Any]:
    rows = conn.execute(
        "SELECT firmware_version, online, COUNT(*) AS devices FROM devices GROUP BY firmware_version, online"
    ).fetchall()
    by_firmware: dict[str, dict[str, int]] = {}
    for row in rows:
        counts = by_firmware.setdefault(row["firmware_version"], {"online": 0, "offline": 0})
        counts["online" if row["online"] else "offline"] += row["devices"]
    online = sum(counts["online"] for counts in by_firmware.values())
    offline = sum(counts["offline"] for counts in by_firmware.values())
    return {"total": online + offline, "online": online, "offline": offline, "by_firmware": by_firmware}


def _snapshot(conn: sqlite3.Connection) -> dict[str, Any]:
    pta_counts = dict(conn.execute("SELECT environment, COUNT(*) FROM pta_records GROUP BY environment").fetchall())
    services = conn.execute("SELECT * FROM services ORDER BY service").fetchall()
    jobs = conn.execute("SELECT * FROM release_jobs ORDER BY job_number").fetchall()
    ota_rows = conn.execute("SELECT product, version FROM ota_releases ORDER BY product, version").fetchall()
    return {
        "ftt": {environment: read_status(conn, environment) for environment in FTT_ENVIRONMENTS},
        "pta_records": {environment: pta_counts.get(environment, 0) for environment in FTT_ENVIRONMENTS},
        "gray_rules": [read_rule(conn, client, module) for client in CLIENT_IDS for module in MODULE_IDS],
        "remote_config": [read_module_config(conn, client, module) for client in CLIENT_IDS for module in MODULE_IDS],
        "releases": {
            "services": [dict(row) for row in services],
            "jobs": [read_job(row) for row in jobs],
        },
        "fleet": _fleet_summary(conn),
        "ota": [read_release(conn, row["product"], row["version"]) for row in ota_rows],
        "chat": {"message_count": conn.execute("SELECT COUNT(*) FROM chat_messages").fetchone()[0]},
        "settings": read_settings(conn),
        "faults": list_faults(conn),
        "write_count": conn.execute("SELECT COUNT(*) FROM writes").fetchone()[0],
    }


@router.post("/reset")
def reset(store: RehearsalStore = Depends(get_store)) -> dict[str, Any]:
    """Reseed the initial state, clearing faults, the write log and chat messages."""
    store.reset()
    return {"reset": True}


@router.get("/state")
def get_state(store: RehearsalStore = Depends(get_store)) -> dict[str, Any]:
    """Return a snapshot of every system, after settling due upgrades and release jobs."""
    with store.transaction(write=True) as conn:
        now = clock.now()
        settle_upgrades(conn, now)
        settle_jobs(conn, now)
        return _snapshot(conn)


@router.get("/writes")
def get_writes(
    system: str | None = Query(None, description="Only writes to this system id."),
    store: RehearsalStore = Depends(get_store),
) -> dict[str, Any]:
    """Return the write log, oldest first, optionally of one system."""
    if system is not None and system not in SYSTEM_IDS:
        raise invalid_field(("query", "system"), f"system must be one of {', '.join(SYSTEM_IDS)}", system)

    where, params = ("WHERE system = ?", [system]) if system else ("", [])
    with store.transaction() as conn:
        rows = conn.execute(f"SELECT * FROM writes {where} ORDER BY write_id", params).fetchall()
    writes = [
        {
            "system": row["system"],
            "method": row["method"],
            "path": row["path"],
            "body": decode_logged_body(row["body"]),
            "at": clock.to_iso(row["at"]),
        }
        for row in rows
    ]
    return {"writes": writes, "count": len(writes)}


@router.post("/ftt/upgrade")
def post_ftt_upgrade(body: UpgradeRequest, store: RehearsalStore = Depends(get_store)) -> dict[str, Any]:
    """Start the production upgrade; it succeeds or fails ``duration_seconds`` later (409 while one runs)."""
    with store.transaction(write=True) as conn:
        return start_upgrade(conn, clock.now(), body.outcome, body.duration_seconds)


@router.post("/ota/push")
def post_ota_push(body: OtaPushRequest, store: RehearsalStore = Depends(get_store)) -> dict[str, Any]:
    """Mark an OTA release as pushed to users."""
    with store.transaction(write=True) as conn:
        return push_release(conn, body.product, body.version, clock.now())


@router.put("/settings")
def put_settings(body: SettingsUpdate, store: RehearsalStore = Depends(get_store)) -> dict[str, Any]:
    """Change the release pipeline settings and return all settings."""
    changes = body.model_dump(exclude_none=True)
    with store.transaction(write=True) as conn:
        write_settings(conn, changes)
        settings = read_settings(conn)
    log.info("rehearsal settings changed keys=%s", ",".join(sorted(changes)))
    return settings


@router.get("/faults")
def get_faults(store: RehearsalStore = Depends(get_store)) -> dict[str, Any]:
    """Return the fault rules with their match and hit counters."""
    with store.transaction() as conn:
        return {"faults": list_faults(conn)}


@router.put("/faults")
def put_faults(body: list[FaultSpec], store: RehearsalStore = Depends(get_store)) -> dict[str, Any]:
    """Replace the fault rules; their counters start from zero."""
    with store.transaction(write=True) as conn:
        replace_faults(conn, body)
        faults = list_faults(conn)
    log.info("rehearsal faults replaced count=%s", len(faults))
    return {"faults": faults}


@router.delete("/faults")
def delete_faults(store: RehearsalStore = Depends(get_store)) -> dict[str, Any]:
    """Remove every fault rule."""
    with store.transaction(write=True) as conn:
        replace_faults(conn, [])
    log.info("rehearsal faults cleared")
    return {"faults": []}
