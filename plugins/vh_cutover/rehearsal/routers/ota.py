"""OTA release status stand-in: ``/ota``. A release is marked pushed through the control API."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, status

from vh_cutover.rehearsal import clock
from vh_cutover.rehearsal.dependencies import get_store, system_guard
from vh_cutover.rehearsal.store import RehearsalStore

log = logging.getLogger(__name__)

router = APIRouter(prefix="/ota", tags=["ota"], dependencies=[Depends(system_guard("ota"))])


def read_release(conn: sqlite3.Connection, product: str, version: str) -> dict[str, Any] | None:
    """Return the push state of one release, or ``None`` when the release is unknown."""
    row = conn.execute(
        "SELECT * FROM ota_releases WHERE product = ? AND version = ?", (product, version)
    ).fetchone()
    if row is None:
        return None
    return {
        "product": product,
        "version": version,
        "pushed": bool(row["pushed"]),
        "pushed_at": clock.to_iso(row["pushed_at"]),
    }


def push_release(conn: sqlite3.Connection, product: str, version: str, now: float) -> dict[str, Any]:
    """Mark a release pushed, creating it when unknown; a second push keeps the first time."""
    conn.execute(
        "INSERT INTO ota_releases (product, version, pushed, pushed_at) VALUES (?, ?, 1, ?)"
        " ON CONFLICT (product, version) DO UPDATE SET pushed = 1, pushed_at = COALESCE(pushed_at, excluded.pushed_at)",
        (product, version, now),
    )
    log.info("rehearsal ota release pushed product=%s version=%s", product, version)
    release = read_release(conn, product, version)
    if release is None:
        raise RuntimeError(f"OTA release {product} {version} vanished right after it was stored")
    return release


@router.get("/releases/{product}/{version}")
def get_release(product: str, version: str, store: RehearsalStore = Depends(get_store)) -> dict[str, Any]:
    """Return whether a release has been pushed to users (404 for an unknown release)."""
    with store.transaction() as conn:
        release = read_release(conn, product, version)
    if release is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"OTA release {product} {version} not found")
    return release
