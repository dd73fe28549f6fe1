"""Fault injection for the stand-in systems.

A fault matches requests by system, method and path fragment. Whether a matching request is
hit follows a counter, not a random draw: the n-th matching request is hit when
``floor(n * rate)`` grows, so rate 1.0 hits every request, 0.0 none and 0.5 every second one.
The counters live in the state file, so every api-server worker shares them.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vh_cutover.rehearsal.catalog import SYSTEM_IDS

log = logging.getLogger(__name__)

MALFORMED_BODY = "<html><body>502 Bad Gateway (rehearsal fault)</body></html>"
RETRY_AFTER_STATUSES = frozenset({429, 503})
FAULT_METHODS = frozenset({"*", "GET", "POST", "PUT", "PATCH", "DELETE"})


class FaultSpec(BaseModel):
    """One fault rule as sent to ``PUT /control/faults``."""

    model_config = ConfigDict(extra="forbid")

    system: str = Field(description="System id such as 'gray_rules', or '*' for every system.")
    method: str = Field(default="*", description="HTTP method to match, or '*' for any.")
    path_contains: str = Field(default="", description="Fragment the request path must contain.")
    status: int | None = Field(default=None, ge=400, le=599, description="Error status of the response.")
    rate: float = Field(default=1.0, ge=0.0, le=1.0, description="Share of matching requests hit.")
    count: int | None = Field(default=None, ge=0, description="Most requests hit; null is unbounded.")
    latency_ms: int = Field(default=0, ge=0, le=600_000, description="Delay before the response, in ms.")
    retry_after: int | None = Field(default=None, ge=0, description="Retry-After header value, in s.")
    malformed: bool = Field(default=False, description="Respond 200 with a body that is not JSON.")

    @model_validator(mode="after")
    def _check_consistency(self) -> FaultSpec:
        if self.system != "*" and self.system not in SYSTEM_IDS:
            raise ValueError(f"system must be '*' or one of {', '.join(SYSTEM_IDS)}, got {self.system!r}")
        self.method = self.method.upper()
        if self.method not in FAULT_METHODS:
            raise ValueError(f"method must be one of {', '.join(sorted(FAULT_METHODS))}, got {self.method!r}")
        if self.retry_after is not None and self.status not in RETRY_AFTER_STATUSES:
            raise ValueError(f"retry_after needs status 429 or 503, got status {self.status!r}")
        if self.status is None and not self.malformed and self.latency_ms == 0:
            raise ValueError("a fault needs at least one of status, malformed or latency_ms")
        if self.status is not None and self.malformed:
            raise ValueError("status and malformed exclude each other because a malformed response is always 200")
        return self

    def matches(self, system: str, method: str, path: str) -> bool:
        """Return whether a request falls under this rule, ignoring rate and count."""
        return (
            self.system in ("*", system)
            and self.method in ("*", method.upper())
            and self.path_contains in path
        )


def _is_hit(match_number: int, rate: float) -> bool:
    return math.floor(match_number * rate) > math.floor((match_number - 1) * rate)


def replace_faults(conn: sqlite3.Connection, specs: list[FaultSpec]) -> None:
    """Replace the fault list and reset its counters; the caller holds the write lock."""
    conn.execute("DELETE FROM faults")
    for position, spec in enumerate(specs, start=1):
        conn.execute(
            "INSERT INTO faults (fault_id, spec) VALUES (?, ?)",
            (position, spec.model_dump_json()),
        )


def list_faults(conn: sqlite3.Connection) -> list[dict[str, object]]:
    """Return every fault rule with how many requests it matched and hit."""
    rows = conn.execute("SELECT spec, matched, applied FROM faults ORDER BY fault_id").fetchall()
    return [{**json.loads(row["spec"]), "matched": row["matched"], "hit": row["applied"]} for row in rows]


def has_faults(conn: sqlite3.Connection) -> bool:
    """Return whether any fault rule is stored."""
    return conn.execute("SELECT 1 FROM faults LIMIT 1").fetchone() is not None


def take_fault(conn: sqlite3.Connection, system: str, method: str, path: str) -> FaultSpec | None:
    """Advance the counters of the rules a request matches and return the first rule that hits it.

    A rule whose ``count`` is used up no longer matches. The caller holds the write lock, so
    concurrent workers never hit a request twice or skip one.
    """
    rows = conn.execute("SELECT fault_id, spec, matched, applied FROM faults ORDER BY fault_id").fetchall()
    for row in rows:
        spec = FaultSpec.model_validate_json(row["spec"])
        if not spec.matches(system, method, path):
            continue
        if spec.count is not None and row["applied"] >= spec.count:
            continue

        match_number = row["matched"] + 1
        hit = _is_hit(match_number, spec.rate)
        conn.execute(
            "UPDATE faults SET matched = ?, applied = applied + ? WHERE fault_id = ?",
            (match_number, int(hit), row["fault_id"]),
        )
        if hit:
            log.info(
                "rehearsal fault hit system=%s method=%s path=%s fault_id=%s status=%s latency_ms=%s malformed=%s",
                system,
                method,
                path,
                row["fault_id"],
                spec.status,
                spec.latency_ms,
                spec.malformed,
            )
            return spec
    return None

