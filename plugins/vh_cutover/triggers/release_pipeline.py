"""Deferrable wait for a backend release job to finish."""

from __future__ import annotations

from typing import Any

from vh_cutover.hooks.release_pipeline import ReleasePipelineHook
from vh_cutover.triggers.base import DEFAULT_MAX_CONSECUTIVE_FAILURES, DeadlinePollingTrigger

_FINAL_STATES = ("succeeded", "failed")


class ReleaseJobTrigger(DeadlinePollingTrigger):
    """
    Wait until a release job succeeds or fails.

    Every event is ``{"status", "job_id", "message"}`` with status ``succeeded``, ``failed``,
    ``deadline`` or ``error``.

    :param release_conn_id: connection of the release pipeline.
    :param job_id: id returned by ``ReleasePipelineHook.start_job``.
    :param poll_interval: seconds between two polls.
    :param deadline: ISO 8601 datetime with a UTC offset.
    :param max_consecutive_failures: transient failures in a row that end the wait with ``error``.
    """

    def __init__(
        self,
        release_conn_id: str,
        job_id: str,
        poll_interval: float,
        deadline: str,
        max_consecutive_failures: int = DEFAULT_MAX_CONSECUTIVE_FAILURES,
    ) -> None:
        super().__init__(
            poll_interval=poll_interval, deadline=deadline, max_consecutive_failures=max_consecutive_failures
        )
        self.release_conn_id = release_conn_id
        self.job_id = job_id
        self._hook: ReleasePipelineHook | None = None
        self._last_state: str | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the class path and the constructor arguments."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "release_conn_id": self.release_conn_id,
                "job_id": self.job_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "max_consecutive_failures": self.max_consecutive_failures,
            },
        )

    async def poll(self) -> dict[str, Any] | None:
        """Read the job once and decide whether the wait is over."""
        if self._hook is None:
            self._hook = ReleasePipelineHook(release_conn_id=self.release_conn_id)
        job = await self._hook.aget_job(self.job_id)

        self._last_state = job["state"]
        self.log.info("release job poll job_id=%s state=%s", self.job_id, job["state"])
        if job["state"] in _FINAL_STATES:
            return {"status": job["state"], "job_id": self.job_id, "message": str(job.get("message") or "")}
        return None

    def deadline_payload(self) -> dict[str, Any]:
        """Return the ``deadline`` payload naming the last state seen."""
        return {
            "status": "deadline",
            "job_id": self.job_id,
            "message": f"job {self.job_id} was still {self._last_state or 'unknown'} at the deadline {self.deadline}",
        }

    def error_payload(self, message: str) -> dict[str, Any]:
        """Return the ``error`` payload."""
        return {"status": "error", "job_id": self.job_id, "message": message}
