"""
Deadline-bounded polling loop shared by the cutover's deferrable waits.

A trigger polls one outside system with GET requests only, sleeps ``poll_interval`` between
polls and never longer than until the deadline, and yields exactly one event. A transient failure
(no response, HTTP 429 or 5xx, a malformed body) is logged and retried on the next poll. The
wait ends with status ``error`` after ``max_consecutive_failures`` such failures in a row, or at
once on any other HTTP error, such as a 401 for a wrong token or a 404 for an unknown id.
"""

from __future__ import annotations

import abc
import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from airflow.sdk import timezone
from airflow.triggers.base import BaseTrigger, TriggerEvent

from vh_cutover.exceptions import CutoverHttpError, MalformedResponseError

DEFAULT_MAX_CONSECUTIVE_FAILURES = 20

# Module-level indirection so tests can replace the wait between polls and control the clock.
_sleep = asyncio.sleep


def parse_deadline(deadline: str) -> dt.datetime:
    """Parse an ISO 8601 deadline that must carry a UTC offset, e.g. ``2025-05-28T22:00:00+08:00``."""
    try:
        parsed = dt.datetime.fromisoformat(deadline)
    except (TypeError, ValueError):
        raise ValueError(f"deadline must be an ISO 8601 datetime string, got {deadline!r}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"deadline must include a UTC offset, got {deadline!r}")
    return parsed


class DeadlinePollingTrigger(BaseTrigger):
    """
    Base trigger that polls until a final state, an unrecoverable error or the deadline.

    Subclasses implement :meth:`poll`, :meth:`deadline_payload` and :meth:`error_payload`, and
    :meth:`serialize` with exactly their constructor arguments.

    :param poll_interval: seconds between two polls, more than zero.
    :param deadline: ISO 8601 datetime with a UTC offset. The wait ends with status ``deadline``
        at the first check at or after it.
    :param max_consecutive_failures: transient failures in a row that end the wait with status
        ``error``, at least 1.
    """

    def __init__(self, *, poll_interval: float, deadline: str, max_consecutive_failures: int) -> None:
        super().__init__()
        if isinstance(poll_interval, bool) or not isinstance(poll_interval, (int, float)) or poll_interval <= 0:
            raise ValueError(f"poll_interval must be a positive number of seconds, got {poll_interval!r}")
        if isinstance(max_consecutive_failures, bool) or not isinstance(max_consecutive_failures, int):
            raise ValueError(f"max_consecutive_failures must be an integer, got {max_consecutive_failures!r}")
        if max_consecutive_failures < 1:
            raise ValueError(f"max_consecutive_failures must be at least 1, got {max_consecutive_failures!r}")
        self.poll_interval = poll_interval
        self.deadline = deadline
        self.max_consecutive_failures = max_consecutive_failures
        self._deadline_at = parse_deadline(deadline)

    @abc.abstractmethod
    async def poll(self) -> dict[str, Any] | None:
        """Read the system once and return the final event payload, or ``None`` to keep waiting."""

    @abc.abstractmethod
    def deadline_payload(self) -> dict[str, Any]:
        """Return the payload of the ``deadline`` event, from the last state seen."""

    @abc.abstractmethod
    def error_payload(self, message: str) -> dict[str, Any]:
        """Return the payload of the ``error`` event."""

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until a final state, an error or the deadline, then yield one event."""
        consecutive_failures = 0
        while True:
            try:
                payload = await self.poll()
            except (CutoverHttpError, MalformedResponseError) as error:
                is_transient = isinstance(error, MalformedResponseError) or error.transient
                consecutive_failures += 1
                if not is_transient or consecutive_failures >= self.max_consecutive_failures:
                    self.log.error(
                        "trigger wait failed trigger=%s failures=%d/%d error=%s",
                        type(self).__name__,
                        consecutive_failures,
                        self.max_consecutive_failures,
                        error,
                    )
                    yield TriggerEvent(self.error_payload(str(error)))
                    return
                self.log.warning(
                    "trigger poll failed, retrying next poll trigger=%s failures=%d/%d error=%s",
                    type(self).__name__,
                    consecutive_failures,
                    self.max_consecutive_failures,
                    error,
                )
            else:
                consecutive_failures = 0
                if payload is not None:
                    yield TriggerEvent(payload)
                    return

            remaining = (self._deadline_at - timezone.utcnow()).total_seconds()
            if remaining <= 0:
                self.log.warning("trigger deadline reached trigger=%s deadline=%s", type(self).__name__, self.deadline)
                yield TriggerEvent(self.deadline_payload())
                return
            await _sleep(min(self.poll_interval, remaining))
