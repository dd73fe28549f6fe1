"""Rehearsal stand-ins: one FastAPI app that plays every outside system of the cutover.

Importing this package is cheap and touches no disk, so the Airflow plugin can check
:func:`rehearsal_enabled` in every Airflow process.
"""

from __future__ import annotations

import os

REHEARSAL_ENV_VAR = "VH_REHEARSAL"


def rehearsal_enabled() -> bool:
    """Return whether the environment variable ``VH_REHEARSAL`` is ``true`` (any case)."""
    return os.environ.get(REHEARSAL_ENV_VAR, "").strip().lower() == "true"


__all__ = ["REHEARSAL_ENV_VAR", "rehearsal_enabled"]
