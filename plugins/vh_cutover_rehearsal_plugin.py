"""Airflow plugin that serves the rehearsal stand-ins under ``/rehearsal`` when ``VH_REHEARSAL=true``.

Every Airflow process imports this file. With rehearsal off it imports no FastAPI code and
touches no disk. With rehearsal on it builds the app, and the app opens its state file only
when the first request arrives.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk.plugins_manager import AirflowPlugin

from vh_cutover.rehearsal import rehearsal_enabled

log = logging.getLogger(__name__)

REHEARSAL_URL_PREFIX = "/rehearsal"


def build_fastapi_apps() -> list[dict[str, Any]]:
    """Return the plugin's ``fastapi_apps`` entry, or an empty list when rehearsal is off."""
    if not rehearsal_enabled():
        return []

    from vh_cutover.rehearsal.app import create_app

    log.info("rehearsal stand-ins enabled url_prefix=%s", REHEARSAL_URL_PREFIX)
    return [{"app": create_app(), "url_prefix": REHEARSAL_URL_PREFIX, "name": "虚拟人切换演练替身服务"}]


class RehearsalStandInsPlugin(AirflowPlugin):
    """Serves the rehearsal stand-ins of every outside system, only while rehearsal is enabled."""

    name = "vh_cutover_rehearsal"
    fastapi_apps = build_fastapi_apps()
