"""
The board's FastAPI application: the page, and the JSON it refreshes from. Imported only by the
api-server, on the board's first request.

The api-server mounts plugin applications with no Airflow authentication in front of them. So
every data route resolves the caller from their Airflow token (the UI's cookie or a bearer
header), then checks with the auth manager that they may read the DAG's runs, task instances,
gates and XComs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from typing import Annotated, Any

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
from airflow.api_fastapi.core_api.security import get_user
from airflow.utils.session import create_session
from fastapi import Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.orm import Session

from vh_cutover.board import queries
from vh_cutover.board.compose import RUN_STATE_LABELS, BoardComposer, dag_layout

CUTOVER_DAG_ID = "vh_cutover_528"
# The task whose return value contains the run's outcome in words (切换完成, 已回滚到测试环境, ...).
SUMMARY_TASK_ID = "send_summary"
# Airflow's own authentication errors, as the board's Chinese page shows them.
AUTH_ERRORS = {
    "Not authenticated": "请先登录 Airflow。",
    "Token Expired": "登录已过期，请重新登录 Airflow。",
    "Invalid JWT token": "登录凭据无效，请重新登录 Airflow。",
}
# The parts of a run the board shows; the caller needs read access to each.
READ_ENTITIES = ("RUN", "TASK_INSTANCE", "HITL_DETAIL", "XCOM")


def _session() -> Iterator[Session]:
    with create_session(scoped=False) as session:
        yield session


def authorize(user: Any, dag_id: str) -> None:
    """Raise 403 unless ``user`` may read the runs, task instances, gates and XComs of ``dag_id``."""
    manager = get_auth_manager()
    for entity in READ_ENTITIES:
        if not manager.is_authorized_dag(method="GET", access_entity=DagAccessEntity[entity],
                                         details=DagDetails(id=dag_id), user=user):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"你没有查看 DAG {dag_id} 运行情况的权限。")


SessionDep = Annotated[Session, Depends(_session)]
# The caller, from a bearer header or the UI's token cookie; 401 without either.
UserDep = Annotated[Any, Depends(get_user)]
DagIdQuery = Annotated[str, Query(min_length=1, max_length=250, description="DAG 的 dag_id")]


def _ui_base(request: Request) -> str:
    """Return the Airflow UI's root path: where the api-server mounted this app, minus the app's prefix."""
    root = request.scope.get("root_path", "")
    return root.rsplit("/", 1)[0] if root else ""


def create_app() -> FastAPI:
    """Return the board application; the plugin mounts it under ``/cutover-board``."""
    app = FastAPI(title="虚拟人切换看板", docs_url=None, redoc_url=None, openapi_url=None)
    page = resources.files("vh_cutover.board").joinpath("page.html").read_text(encoding="utf-8")

    @app.exception_handler(HTTPException)
    async def chinese_errors(request: Request, error: HTTPException) -> JSONResponse:
        detail = AUTH_ERRORS.get(error.detail, error.detail) if isinstance(error.detail, str) else error.detail
        return JSONResponse({"detail": detail, "login": error.detail in AUTH_ERRORS}, status_code=error.status_code,
                            headers=error.headers)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def board_page(request: Request) -> str:
        # The page has no data of its own; it fetches the routes below with the caller's token.
        return page.replace("__BOARD_ROOT__", json.dumps(request.scope.get("root_path", "")))

    @app.get("/api/runs")
    def runs(user: UserDep, session: SessionDep, dag_id: DagIdQuery = CUTOVER_DAG_ID) -> dict[str, Any]:
        authorize(user, dag_id)
        composer = BoardComposer(dag_id=dag_id, timezone=queries.dag_timezone(dag_id, session))
        return {"dag_id": dag_id, "runs": [
            {"run_id": run["run_id"], "state": run["state"],
             "state_label": RUN_STATE_LABELS.get(run["state"], run["state"] or ""),
             "started": composer.local_time(run["start_date"]), "dry_run": bool((run["conf"] or {}).get("dry_run"))}
            for run in queries.recent_runs(dag_id, session)
        ]}

    @app.get("/api/board")
    def board(request: Request, user: UserDep, session: SessionDep, dag_id: DagIdQuery = CUTOVER_DAG_ID,
              run_id: Annotated[str | None, Query(max_length=250, description="运行的 run_id；不填则为最近一次运行")] = None,
              ) -> dict[str, Any]:
        authorize(user, dag_id)
        if not run_id:
            latest = queries.recent_runs(dag_id, session, limit=1)
            if not latest:
                raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"DAG {dag_id} 不存在，或还没有任何运行。")
            run_id = latest[0]["run_id"]
        found = queries.run_with_dag(dag_id, run_id, session)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"找不到 DAG {dag_id} 的运行 {run_id}。")
        run, dag = found
        instances, ti_ids = queries.task_instances(dag_id, run_id, session)
        composer = BoardComposer(dag_id=dag_id, timezone=queries.timezone_name(dag), ui_base=_ui_base(request))
        return composer.compose(
            dag_layout(dag), run=run, instances=instances, gates=queries.gate_details(ti_ids, session),
            audits=queries.audit_records(dag_id, run_id, session),
            outcome=queries.summary_state(dag_id, run_id, SUMMARY_TASK_ID, session),
        )

    return app
