"""The one clock of the rehearsal stand-ins.

Every time-based behaviour (FTT upgrade, release jobs, chat signature age) reads this
function, so a test that freezes ``time.time`` with time-machine controls all of it.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone


def now() -> float:
    """Return the current time as seconds since the epoch."""
    return time.time()


def to_iso(timestamp: float | None) -> str | None:
    """Format epoch seconds as an ISO 8601 UTC string, keeping ``None`` as ``None``."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat()
