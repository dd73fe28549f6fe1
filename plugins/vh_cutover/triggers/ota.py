"""Deferrable wait for a device firmware release to be pushed to users over the air."""

from __future__ import annotations

from typing import Any

from vh_cutover.hooks.ota import OtaHook
from vh_cutover.triggers.base import DEFAULT_MAX_CONSECUTIVE_FAILURES, DeadlinePollingTrigger


class OtaPushTrigger(DeadlinePollingTrigger):
    """
    Wait until the OTA service reports a release as pushed.

    Events: ``{"status": "pushed", "pushed_at"}``, ``{"status": "deadline"}`` or
    ``{"status": "error", "message"}``.

    :param ota_conn_id: connection of the OTA service.
    :param product: client id of the device, e.g. ``wandechu_2_0``.
    :param version: release version, e.g. ``2.7.0``.
    :param poll_interval: seconds between two polls.
    :param deadline: ISO 8601 datetime with a UTC offset.
    :param max_consecutive_failures: transient failures in a row that end the wait with ``error``.
    """

    def __init__(
        self,
        ota_conn_id: str,
        product: str,
        version: str,
        poll_interval: float,
        deadline: str,
        max_consecutive_failures: int = DEFAULT_MAX_CONSECUTIVE_FAILURES,
    ) -> None:
        super().__init__(
            poll_interval=poll_interval, deadline=deadline, max_consecutive_failures=max_consecutive_failures
        )
        self.ota_conn_id = ota_conn_id
        self.product = product
        self.version = version
        self._hook: OtaHook | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the class path and the constructor arguments."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "ota_conn_id": self.ota_conn_id,
                "product": self.product,
                "version": self.version,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "max_consecutive_failures": self.max_consecutive_failures,
            },
        )

    async def poll(self) -> dict[str, Any] | None:
        """Read the release once and decide whether the wait is over."""
        if self._hook is None:
            self._hook = OtaHook(ota_conn_id=self.ota_conn_id)
        release = await self._hook.aget_release(self.product, self.version)

        self.log.info("ota push poll product=%s version=%s pushed=%s", self.product, self.version, release["pushed"])
        if release["pushed"]:
            pushed_at = release.get("pushed_at")
            return {"status": "pushed", "pushed_at": pushed_at if isinstance(pushed_at, str) else None}
        return None

    def deadline_payload(self) -> dict[str, Any]:
        """Return the ``deadline`` payload."""
        return {"status": "deadline"}

    def error_payload(self, message: str) -> dict[str, Any]:
        """Return the ``error`` payload."""
        return {"status": "error", "message": message}
