"""
Reads of the board from Airflow's metadata database, run inside the api-server.

Only the api-server imports this module: workers and the triggerer reach the database through
the execution API and have no session to pass here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vh_cutover.audit import AUDIT_XCOM_KEY


def recent_runs(dag_id: str, session: Session, *, limit: int = 20) -> list[dict[str, Any]]:
    """Return the newest runs of a DAG, newest first."""
    from airflow.models.dagrun import DagRun

    rows = session.scalars(
        select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.run_after.desc(), DagRun.id.desc()).limit(limit)
    )
    return [{"run_id": run.run_id, "state": run.state, "start_date": run.start_date, "end_date": run.end_date,
             "conf": run.conf} for run in rows]


def run_with_dag(dag_id: str, run_id: str, session: Session) -> tuple[dict[str, Any], Any] | None:
    """Return one run and the serialized DAG version it ran with, or ``None`` when either is unknown."""
    from airflow.models.dagbag import DBDagBag
    from airflow.models.dagrun import DagRun

    run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    if run is None:
        return None
    dag = DBDagBag().get_dag_for_run(run, session=session)
    if dag is None:
        return None
    document = {"run_id": run.run_id, "state": run.state, "start_date": run.start_date, "end_date": run.end_date,
                "conf": run.conf}
    return document, dag


def timezone_name(dag: Any) -> str:
    """Return the IANA name of a serialized DAG's timezone (that of its ``start_date``)."""
    return str(getattr(dag.timezone, "name", None) or "UTC")


def dag_timezone(dag_id: str, session: Session) -> str:
    """Return the timezone name of a DAG's latest version, or ``UTC`` for an unknown DAG."""
    from airflow.models.dagbag import DBDagBag

    dag = DBDagBag().get_latest_version_of_dag(dag_id, session=session)
    return timezone_name(dag) if dag is not None else "UTC"


def task_instances(dag_id: str, run_id: str, session: Session) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Return the run's unmapped task instances by task id, and their ids by task id."""
    from airflow.models.taskinstance import TaskInstance

    rows = session.scalars(
        select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id,
                                   TaskInstance.map_index == -1)
    )
    instances, ids = {}, {}
    for ti in rows:
        instances[ti.task_id] = {"state": ti.state, "try_number": ti.try_number, "start_date": ti.start_date,
                                 "end_date": ti.end_date}
        ids[ti.task_id] = ti.id
    return instances, ids


def gate_details(ti_ids: dict[str, Any], session: Session) -> dict[str, dict[str, Any]]:
    """Return the HITL detail of every gate among the given task instances, by task id."""
    from airflow.models.hitl import HITLDetail

    by_ti = {ti_id: task_id for task_id, ti_id in ti_ids.items()}
    rows = session.scalars(select(HITLDetail).where(HITLDetail.ti_id.in_(list(by_ti))))
    return {
        by_ti[row.ti_id]: {"assignees": row.assigned_users, "created_at": row.created_at,
                           "responded_at": row.responded_at, "responded_by": row.responded_by_user,
                           "chosen_options": row.chosen_options}
        for row in rows
    }


def summary_state(dag_id: str, run_id: str, task_id: str, session: Session) -> str | None:
    """Return the ``state`` field of a task's return value in the run, when it has one."""
    from airflow.models.xcom import XComModel

    row = session.execute(
        select(XComModel.value).where(XComModel.dag_id == dag_id, XComModel.run_id == run_id,
                                      XComModel.task_id == task_id, XComModel.key == "return_value")
    ).first()
    value = XComModel.deserialize_value(row) if row is not None else None
    return value.get("state") if isinstance(value, dict) and isinstance(value.get("state"), str) else None


def audit_records(dag_id: str, run_id: str, session: Session) -> dict[str, list[dict[str, Any]]]:
    """Return the audit records every task of the run published, by task id."""
    from airflow.models.xcom import XComModel

    rows = session.execute(
        select(XComModel.task_id, XComModel.value).where(XComModel.dag_id == dag_id, XComModel.run_id == run_id,
                                                         XComModel.key == AUDIT_XCOM_KEY)
    )
    records = {}
    for row in rows:
        decoded = XComModel.deserialize_value(row)
        records[row.task_id] = [record for record in decoded or [] if isinstance(record, dict)]
    return records
