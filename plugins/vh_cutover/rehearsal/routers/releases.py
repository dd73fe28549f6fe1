"""Backend release pipeline stand-in: ``/releases``.

A job finishes ``job_duration_seconds`` after it was created. Its outcome is fixed at
creation (it fails when its service is in ``failing_services``) and is applied lazily by
the first read after the finish time.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from vh_cutover.rehearsal import clock
from vh_cutover.rehearsal.dependencies import get_store, system_guard
from vh_cutover.rehearsal.models import invalid_field
from vh_cutover.rehearsal.store import RehearsalStore, read_settings

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/releases", tags=["release_pipeline"], dependencies=[Depends(system_guard("release_pipeline"))]
)


class ReleaseJobRequest(BaseModel):
    """Body of ``POST /jobs``."""

    model_config = ConfigDict(extra="forbid")

    service: str = Field(min_length=1)
    version: str = Field(min_length=1)
    action: Literal["deploy", "rollback"]
    idempotency_key: str = Field(min_length=1, max_length=200)


def settle_jobs(conn: sqlite3.Connection, now: float) -> None:
    """Finish every running job whose duration has passed, oldest finish first; the caller holds the write lock."""
    rows = conn.execute(
        "SELECT * FROM release_jobs WHERE state = 'running' AND created_at + duration_seconds <= ?"
        " ORDER BY created_at + duration_seconds, job_number",
        (now,),
    ).fetchall()
    for row in rows:
        finished_at = row["created_at"] + row["duration_seconds"]
        if row["will_fail"]:
            state = "failed"
            message = f"{row['action']} of {row['service']} {row['version']} failed its health checks"
        else:
            state = "succeeded"
            message = f"{row['service']} now runs {row['version']}"
            conn.execute(
                "UPDATE services SET previous_version = deployed_version, deployed_version = ?, deployed_by_key = ?"
                " WHERE service = ? AND deployed_version IS NOT ?",
                (row["version"], row["idempotency_key"], row["service"], row["version"]),
            )
        conn.execute(
            "UPDATE release_jobs SET state = ?, message = ?, finished_at = ? WHERE job_number = ?",
            (state, message, finished_at, row["job_number"]),
        )
        log.info("rehearsal release job finished job_id=%s service=%s state=%s", row["job_id"], row["service"], state)


def read_job(row: sqlite3.Row) -> dict[str, Any]:
    """Return the API document of a stored job row."""
    return {
        "job_id": row["job_id"],
        "service": row["service"],
        "version": row["version"],
        "action": row["action"],
        "idempotency_key": row["idempotency_key"],
        "state": row["state"],
        "message": row["message"],
        "created_at": clock.to_iso(row["created_at"]),
        "finished_at": clock.to_iso(row["finished_at"]),
    }


def read_service(conn: sqlite3.Connection, service: str) -> dict[str, Any] | None:
    """
    Return a service's deployed and previous version, or ``None`` for an unknown service.

    ``deployed_by_key`` is the idempotency key of the job that deployed the current version, so a
    caller can tell its own earlier job from someone else's.
    """
    row = conn.execute("SELECT * FROM services WHERE service = ?", (service,)).fetchone()
    if row is None:
        return None
    return {
        "service": row["service"],
        "deployed_version": row["deployed_version"],
        "previous_version": row["previous_version"],
        "deployed_by_key": row["deployed_by_key"],
    }


@router.get("/services/{service}")
def get_service(service: str, store: RehearsalStore = Depends(get_store)) -> dict[str, Any]:
    """Return the deployed version of a service (404 for an unknown service)."""
    with store.transaction(write=True) as conn:
        settle_jobs(conn, clock.now())
        document = read_service(conn, service)
    if document is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"service {service!r} not found")
    return document


@router.post("/jobs")
def post_job(body: ReleaseJobRequest, store: RehearsalStore = Depends(get_store)) -> dict[str, Any]:
    """Create a release job, or return the job created earlier with the same idempotency key."""
    now = clock.now()
    with store.transaction(write=True) as conn:
        settle_jobs(conn, now)
        existing = conn.execute(
            "SELECT * FROM release_jobs WHERE idempotency_key = ?", (body.idempotency_key,)
        ).fetchone()
        if existing is not None:
            if (existing["service"], existing["version"], existing["action"]) != (
                body.service,
                body.version,
                body.action,
            ):
                raise HTTPException(
                    status.HTTP_409_CONFLICT,
                    detail=(
                        f"idempotency_key {body.idempotency_key!r} already belongs to job {existing['job_id']}"
                        f" ({existing['action']} {existing['service']} {existing['version']})"
                    ),
                )
            return {**read_job(existing), "created": False}

        if read_service(conn, body.service) is None:
            raise invalid_field(("body", "service"), f"service {body.service!r} is not known to the pipeline", body.service)

        settings = read_settings(conn)
        job_number = conn.execute("SELECT COALESCE(MAX(job_number), 0) + 1 FROM release_jobs").fetchone()[0]
        job_id = f"job-{job_number:06d}"
        conn.execute(
            "INSERT INTO release_jobs (job_number, job_id, idempotency_key, service, version, action, state,"
            " will_fail, created_at, duration_seconds) VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)",
            (
                job_number,
                job_id,
                body.idempotency_key,
                body.service,
                body.version,
                body.action,
                int(body.service in settings["failing_services"]),
                now,
                float(settings["job_duration_seconds"]),
            ),
        )
        created = conn.execute("SELECT * FROM release_jobs WHERE job_number = ?", (job_number,)).fetchone()

    log.info(
        "rehearsal release job created job_id=%s service=%s version=%s action=%s",
        job_id,
        body.service,
        body.version,
        body.action,
    )
    return {**read_job(created), "created": True}


@router.get("/jobs/{job_id}")
def get_job(job_id: str, store: RehearsalStore = Depends(get_store)) -> dict[str, Any]:
    """Return a job's state, finishing it first when its duration has passed (404 when unknown)."""
    with store.transaction(write=True) as conn:
        settle_jobs(conn, clock.now())
        row = conn.execute("SELECT * FROM release_jobs WHERE job_id = ?", (job_id,)).fetchone()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"release job {job_id!r} not found")
    return read_job(row)
