"""Gray-release rule stand-in: ``/gray-rules``.

A rule hides a client's module from every client version below ``min_version``. The
revision counts real changes only, so a retried PUT with the same value leaves the stored
rule, including ``updated_by`` and ``change_key``, untouched.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from vh_cutover.rehearsal import clock
from vh_cutover.rehearsal.catalog import ClientId, parse_version
from vh_cutover.rehearsal.dependencies import get_store, system_guard
from vh_cutover.rehearsal.models import Version, invalid_field, require_client, require_module
from vh_cutover.rehearsal.store import RehearsalStore

log = logging.getLogger(__name__)

router = APIRouter(prefix="/gray-rules", tags=["gray_rules"], dependencies=[Depends(system_guard("gray_rules"))])


class GrayRuleUpdate(BaseModel):
    """Body of ``PUT /rules/{client}/{module}``."""

    model_config = ConfigDict(extra="forbid")

    min_version: Version | None = Field(description="Lowest client version that sees the module; null removes the rule.")
    updated_by: str | None = None
    change_key: str | None = None


def read_rule(conn: sqlite3.Connection, client: str, module: str) -> dict[str, Any]:
    """Return the stored rule of one client module."""
    row = conn.execute(
        "SELECT * FROM gray_rules WHERE client = ? AND module = ?", (client, module)
    ).fetchone()
    return {
        "client": client,
        "module": module,
        "min_version": row["min_version"],
        "revision": row["revision"],
        "updated_by": row["updated_by"],
        "change_key": row["change_key"],
    }


def _strip_display_prefix(version: str) -> str:
    # Apps show their version as "V4.4.10"; the rule compares the bare x.y.z.
    return version[1:] if version[:1] in ("V", "v") else version


@router.get("/rules/{client}/{module}")
def get_rule(client: str, module: str, store: RehearsalStore = Depends(get_store)) -> dict[str, Any]:
    """Return the gray rule of a client module (404 for an unknown client or module)."""
    require_client(client)
    require_module(module)
    with store.transaction() as conn:
        return read_rule(conn, client, module)


@router.put("/rules/{client}/{module}")
def put_rule(
    client: str,
    module: str,
    body: GrayRuleUpdate,
    store: RehearsalStore = Depends(get_store),
) -> dict[str, Any]:
    """Store the rule; the revision grows only when ``min_version`` changes."""
    require_client(client)
    require_module(module)

    with store.transaction(write=True) as conn:
        before = read_rule(conn, client, module)
        if before["min_version"] == body.min_version:
            return before

        conn.execute(
            "UPDATE gray_rules SET min_version = ?, revision = revision + 1, updated_by = ?, change_key = ?,"
            " updated_at = ? WHERE client = ? AND module = ?",
            (body.min_version, body.updated_by, body.change_key, clock.now(), client, module),
        )
        after = read_rule(conn, client, module)

    log.info(
        "rehearsal gray rule changed client=%s module=%s before=%s after=%s revision=%s",
        client,
        module,
        before["min_version"],
        after["min_version"],
        after["revision"],
    )
    return after


@router.get("/evaluate")
def evaluate(
    client: ClientId,
    module: str = Query(min_length=1),
    version: str = Query(min_length=1, description="Client version, x.y.z with an optional leading V."),
    store: RehearsalStore = Depends(get_store),
) -> dict[str, Any]:
    """Return whether the module is visible to a client of ``version`` under the current rule."""
    require_module(module)
    try:
        client_version = parse_version(_strip_display_prefix(version))
    except ValueError as error:
        raise invalid_field(("query", "version"), str(error), version) from error

    with store.transaction() as conn:
        rule = read_rule(conn, client, module)

    min_version = rule["min_version"]
    visible = min_version is None or client_version >= parse_version(min_version)
    return {
        "client": client,
        "module": module,
        "version": version,
        "visible": visible,
        "min_version": min_version,
    }
