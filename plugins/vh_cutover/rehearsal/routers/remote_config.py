"""Client remote-configuration stand-in: ``/remote-config``.

A PUT replaces a module's settings. The revision counts real changes only, so a retried PUT
with the same settings leaves the stored document untouched.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from vh_cutover.rehearsal import clock
from vh_cutover.rehearsal.catalog import FTT_ENVIRONMENTS, VERSION_PATTERN
from vh_cutover.rehearsal.dependencies import get_store, system_guard
from vh_cutover.rehearsal.models import invalid_field, require_client, require_module
from vh_cutover.rehearsal.store import RehearsalStore

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/remote-config", tags=["remote_config"], dependencies=[Depends(system_guard("remote_config"))]
)


class ModuleConfigUpdate(BaseModel):
    """Body of ``PUT /clients/{client}/modules/{module}``."""

    model_config = ConfigDict(extra="forbid")

    settings: dict[str, Any]
    updated_by: str | None = None
    change_key: str | None = None


def _require_text(settings: dict[str, Any], key: str) -> str:
    value = settings.get(key)
    if not isinstance(value, str) or not value.strip():
        raise invalid_field(("body", "settings", key), f"settings.{key} must be a non-empty string", value)
    return value


def validate_settings(module: str, settings: dict[str, Any]) -> None:
    """Raise 422 naming the field when settings do not fit the module.

    ``virtual_human`` needs ``domain`` (an https URL), ``environment`` (test or prod) and
    ``app_id``; further keys are kept as they are. ``upgrade_prompt`` is either empty or has
    ``below_version`` (x.y.z) and ``message``.
    """
    if module == "virtual_human":
        domain = _require_text(settings, "domain")
        if not domain.startswith("https://"):
            raise invalid_field(("body", "settings", "domain"), "settings.domain must start with https://", domain)
        environment = settings.get("environment")
        if environment not in FTT_ENVIRONMENTS:
            raise invalid_field(
                ("body", "settings", "environment"), "settings.environment must be 'test' or 'prod'", environment
            )
        _require_text(settings, "app_id")
        return

    if not settings:
        return
    below_version = _require_text(settings, "below_version")
    if not VERSION_PATTERN.match(below_version):
        raise invalid_field(
            ("body", "settings", "below_version"), "settings.below_version must look like x.y.z", below_version
        )
    _require_text(settings, "message")


def read_module_config(conn: sqlite3.Connection, client: str, module: str) -> dict[str, Any]:
    """Return the stored configuration document of one client module."""
    row = conn.execute(
        "SELECT * FROM remote_config WHERE client = ? AND module = ?", (client, module)
    ).fetchone()
    return {
        "client": client,
        "module": module,
        "settings": json.loads(row["settings"]),
        "revision": row["revision"],
        "updated_by": row["updated_by"],
        "change_key": row["change_key"],
    }


@router.get("/clients/{client}/modules/{module}")
def get_module_config(client: str, module: str, store: RehearsalStore = Depends(get_store)) -> dict[str, Any]:
    """Return a client module's settings (404 for an unknown client or module)."""
    require_client(client)
    require_module(module)
    with store.transaction() as conn:
        return read_module_config(conn, client, module)


@router.put("/clients/{client}/modules/{module}")
def put_module_config(
    client: str,
    module: str,
    body: ModuleConfigUpdate,
    store: RehearsalStore = Depends(get_store),
) -> dict[str, Any]:
    """Replace a client module's settings; the revision grows only when they change."""
    require_client(client)
    require_module(module)
    validate_settings(module, body.settings)

    with store.transaction(write=True) as conn:
        before = read_module_config(conn, client, module)
        if before["settings"] == body.settings:
            return before

        conn.execute(
            "UPDATE remote_config SET settings = ?, revision = revision + 1, updated_by = ?, change_key = ?,"
            " updated_at = ? WHERE client = ? AND module = ?",
            (json.dumps(body.settings, sort_keys=True), body.updated_by, body.change_key, clock.now(), client, module),
        )
        after = read_module_config(conn, client, module)

    log.info(
        "rehearsal remote config changed client=%s module=%s revision=%s updated_by=%s",
        client,
        module,
        after["revision"],
        body.updated_by,
    )
    log.debug("rehearsal remote config payload before=%s after=%s", before["settings"], after["settings"])
    return after
