"""Deferrable wait for the vendor's upgrade of the FTT production environment."""

from __future__ import annotations

from typing import Any

from vh_cutover.hooks.ftt import FttHook
from vh_cutover.triggers.base import DEFAULT_MAX_CONSECUTIVE_FAILURES, DeadlinePollingTrigger

# Upgrade states in which matching content means the upgrade is complete: "succeeded" right after
# the upgrade, "idle" when the environment already had the content before the wait began.
_SETTLED_STATES = ("succeeded", "idle")


class FttUpgradeTrigger(DeadlinePollingTrigger):
    """
    Wait until FTT production runs the target version and content revision, or the upgrade fails.

    Events: ``upgraded`` (``version``, ``content_revision``, ``finished_at``), ``failed``
    (``message``), ``deadline`` (the last ``version``, ``content_revision`` and
    ``upgrade_state`` seen, ``None`` if no poll succeeded) or ``error`` (``message``).

    :param ftt_conn_id: connection of the FTT production environment.
    :param target_version: version the upgrade must reach, e.g. ``5.0.0``.
    :param target_revision: content revision the upgrade must reach, e.g. ``2024-04-new``.
    :param poll_interval: seconds between two polls.
    :param deadline: end of the vendor's upgrade window, an ISO 8601 datetime with a UTC offset.
    :param max_consecutive_failures: transient failures in a row that end the wait with ``error``.
    """

    def __init__(
        self,
        ftt_conn_id: str,
        target_version: str,
        target_revision: str,
        poll_interval: float,
        deadline: str,
        max_consecutive_failures: int = DEFAULT_MAX_CONSECUTIVE_FAILURES,
    ) -> None:
        super().__init__(
            poll_interval=poll_interval, deadline=deadline, max_consecutive_failures=max_consecutive_failures
        )
        self.ftt_conn_id = ftt_conn_id
        self.target_version = target_version
        self.target_revision = target_revision
        self._hook: FttHook | None = None
        self._last_seen: dict[str, str | None] = {"version": None, "content_revision": None, "upgrade_state": None}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the class path and the constructor arguments."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "ftt_conn_id": self.ftt_conn_id,
                "target_version": self.target_version,
                "target_revision": self.target_revision,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "max_consecutive_failures": self.max_consecutive_failures,
            },
        )

    async def poll(self) -> dict[str, Any] | None:
        """Read the production status once and decide whether the wait is over."""
        if self._hook is None:
            self._hook = FttHook(ftt_conn_id=self.ftt_conn_id)
        status = await self._hook.aget_status()

        upgrade = status["upgrade"]
        state = upgrade["state"]
        self._last_seen = {
            "version": status["version"],
            "content_revision": status["content_revision"],
            "upgrade_state": state,
        }
        content_matches = (
            status["version"] == self.target_version and status["content_revision"] == self.target_revision
        )
        self.log.info(
            "ftt upgrade poll version=%s content_revision=%s upgrade_state=%s content_matches=%s",
            status["version"],
            status["content_revision"],
            state,
            content_matches,
        )

        if content_matches and state in _SETTLED_STATES:
            finished_at = upgrade.get("finished_at")
            return {
                "status": "upgraded",
                "version": status["version"],
                "content_revision": status["content_revision"],
                "finished_at": finished_at if isinstance(finished_at, str) else None,
            }
        if state == "failed":
            return {"status": "failed", "message": str(upgrade.get("message") or "upgrade failed without a message")}
        return None

    def deadline_payload(self) -> dict[str, Any]:
        """Return the ``deadline`` payload with the last state seen."""
        return {"status": "deadline", **self._last_seen}

    def error_payload(self, message: str) -> dict[str, Any]:
        """Return the ``error`` payload."""
        return {"status": "error", "message": message}
