"""Hook for the vendor's FTT admin backend (test or production environment) of the virtual human."""

from __future__ import annotations

import datetime as dt
from typing import Any

from vh_cutover.exceptions import CutoverHttpError
from vh_cutover.hooks.base import AsyncCutoverHttpClient, CutoverHttpHook, require_field, require_text

FTT_PROD_CONN_ID = "vh_ftt_prod"
FTT_TEST_CONN_ID = "vh_ftt_test"

_SYSTEM_BY_CONN_ID = {FTT_PROD_CONN_ID: "ftt_prod", FTT_TEST_CONN_ID: "ftt_test"}


class FttHook(CutoverHttpHook):
    """
    Read the status of one FTT environment, run SDK handshakes and PTA syncs, and reclaim it.

    :param ftt_conn_id: connection of the environment, ``vh_ftt_prod`` or ``vh_ftt_test``.
    :param system: short id used in logs and audit records. Defaults to ``ftt_test`` for
        ``vh_ftt_test`` and to ``ftt_prod`` for every other connection id, so pass it when a
        differently named connection points at the test environment.
    """

    conn_name_attr = "ftt_conn_id"
    default_conn_name = FTT_PROD_CONN_ID
    hook_name = "Virtual-human FTT admin backend"
    test_endpoint = "/status"

    def __init__(self, ftt_conn_id: str = default_conn_name, *, system: str | None = None) -> None:
        super().__init__(conn_id=ftt_conn_id)
        self.ftt_conn_id = ftt_conn_id
        self.system = system or _SYSTEM_BY_CONN_ID.get(ftt_conn_id, "ftt_prod")
        self._async_client: AsyncCutoverHttpClient | None = None

    def _checked_status(self, status: dict[str, Any]) -> dict[str, Any]:
        for key in ("version", "content_revision"):
            require_field(status, key, (str,), system=self.system, method="GET", endpoint="/status")
        upgrade = require_field(status, "upgrade", (dict,), system=self.system, method="GET", endpoint="/status")
        require_field(upgrade, "state", (str,), system=self.system, method="GET", endpoint="/status")
        return status

    def get_status(self) -> dict[str, Any]:
        """Return the environment's status: ``version``, ``content_revision``, ``healthy``, ``upgrade``."""
        return self._checked_status(self.request_json("GET", "/status"))

    async def aget_status(self) -> dict[str, Any]:
        """Async :meth:`get_status` for triggers."""
        if self._async_client is None:
            self._async_client = AsyncCutoverHttpClient(self.ftt_conn_id, system=self.system)
        return self._checked_status(await self._async_client.request_json("GET", "/status"))

    def check_health(self) -> bool:
        """
        Return whether the environment reports itself healthy.

        A reclaimed environment responds 503, which is retried like any 5xx and then reported as
        ``False``. Other failures (no response, 4xx such as a wrong token) raise, because they
        reveal nothing about the environment's health.
        """
        try:
            body = self.request_json("GET", "/health")
        except CutoverHttpError as error:
            if error.status is not None and error.status >= 500:
                self.log.warning("ftt health check system=%s healthy=false status=%s", self.system, error.status)
                return False
            raise
        return body.get("status") == "ok"

    def get_traffic(self, window_seconds: int) -> dict[str, Any]:
        """Return the SDK requests seen in the last ``window_seconds``: ``requests`` and ``by_client``."""
        if isinstance(window_seconds, bool) or not isinstance(window_seconds, int) or window_seconds <= 0:
            raise ValueError(f"window_seconds must be a positive integer, got {window_seconds!r}")
        traffic = self.request_json("GET", "/traffic", params={"window_seconds": window_seconds})
        require_field(traffic, "requests", (int,), system=self.system, method="GET", endpoint="/traffic")
        require_field(traffic, "by_client", (dict,), system=self.system, method="GET", endpoint="/traffic")
        return traffic

    def handshake(self, client: str, domain: str) -> dict[str, Any]:
        """Return the handshake result of ``client``'s SDK calling ``domain``, with ``ok`` false and a ``reason`` on failure."""
        params = {"client": require_text("client", client), "domain": require_text("domain", domain)}
        result = self.request_json("GET", "/sdk/handshake", params=params)
        require_field(result, "ok", (bool,), system=self.system, method="GET", endpoint="/sdk/handshake")
        return result

    def count_pta_records(self, *, created_before: dt.datetime | None = None) -> int:
        """Return how many PTA records the environment keeps, optionally only those created before a time."""
        params: dict[str, str] = {}
        if created_before is not None:
            if created_before.tzinfo is None:
                raise ValueError(f"created_before must be timezone-aware, got {created_before!r}")
            params["created_before"] = created_before.isoformat()
        result = self.request_json("GET", "/pta/records", params=params or None)
        return require_field(result, "count", (int,), system=self.system, method="GET", endpoint="/pta/records")

    def sync_pta(self, client: str, user_id: str) -> dict[str, Any]:
        """Run one PTA sync round trip for ``user_id`` on ``client`` and return the result, whose ``ok`` is the outcome."""
        body = {"client": require_text("client", client), "user_id": require_text("user_id", user_id)}
        result = self.request_json("POST", "/pta/sync", json=body)
        require_field(result, "ok", (bool,), system=self.system, method="POST", endpoint="/pta/sync")
        return result

    def reclaim(self, change_key: str | None = None) -> dict[str, Any]:
        """
        Hand the environment back to the vendor and return the result.

        ``changed`` is false when the environment was already reclaimed. ``change_key`` is kept
        with the reclaim and read back as the status's ``reclaim_key``. The production
        environment responds 409, which raises ``CutoverHttpError``.
        """
        body = {"change_key": require_text("change_key", change_key)} if change_key else None
        result = self.request_json("POST", "/reclaim", json=body)
        require_field(result, "reclaimed", (bool,), system=self.system, method="POST", endpoint="/reclaim")
        return result
