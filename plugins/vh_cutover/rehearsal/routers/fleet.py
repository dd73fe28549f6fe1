"""Device fleet stand-in: ``/fleet``."""

from __future__ import annotations

import sqlite3
from typing import Any

from fastapi import APIRouter, Depends, Query

from vh_cutover.rehearsal.dependencies import get_store, system_guard
from vh_cutover.rehearsal.store import RehearsalStore

MAX_PAGE_SIZE = 100

router = APIRouter(prefix="/fleet", tags=["device_fleet"], dependencies=[Depends(system_guard("device_fleet"))])


def _device(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "device_id": row["device_id"],
        "model": row["model"],
        "firmware_version": row["firmware_version"],
        "software_version": row["software_version"],
        "online": bool(row["online"]),
        "household": bool(row["household"]),
        "admin_bound": bool(row["admin_bound"]),
        "hardware_version": row["hardware_version"],
    }


@router.get("/devices")
def list_devices(
    model: str | None = Query(None, min_length=1, description="Device model, for example DW220."),
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=MAX_PAGE_SIZE),
    store: RehearsalStore = Depends(get_store),
) -> dict[str, Any]:
    """Return one page of devices ordered by device id, optionally of one model."""
    where, params = ("WHERE model = ?", [model]) if model else ("", [])
    with store.transaction() as conn:
        total = conn.execute(f"SELECT COUNT(*) FROM devices {where}", params).fetchone()[0]
        rows = conn.execute(
            f"SELECT * FROM devices {where} ORDER BY device_id LIMIT ? OFFSET ?",
            [*params, page_size, (page - 1) * page_size],
        ).fetchall()
    return {"items": [_device(row) for row in rows], "page": page, "page_size": page_size, "total": total}
