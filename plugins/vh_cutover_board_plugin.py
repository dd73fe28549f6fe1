"""
Airflow plugin for the cutover board: a page per run of the cutover DAG, served by the api-server
under ``/cutover-board`` and linked from the UI's navigation and from each run's tabs.

Every Airflow process imports this file, so it imports no FastAPI or api-server code: the board's
application is built on its first request (see :class:`LazyBoardApp`).
"""

from __future__ import annotations

from typing import Any

from airflow.sdk.plugins_manager import AirflowPlugin

BOARD_URL_PREFIX = "/cutover-board"


class LazyBoardApp:
    """An ASGI application that builds the board's FastAPI application on the first request it gets."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # Built without awaiting anything, so two requests on the event loop cannot both build it.
        if self._app is None:
            from vh_cutover.board.app import create_app

            self._app = create_app()
        await self._app(scope, receive, send)


class CutoverBoardPlugin(AirflowPlugin):
    """Serves the cutover board and links it from the Airflow UI."""

    name = "vh_cutover_board"
    fastapi_apps = [{"app": LazyBoardApp(), "url_prefix": BOARD_URL_PREFIX, "name": "虚拟人切换看板"}]
    external_views = [
        {"name": "切换看板", "href": f"{BOARD_URL_PREFIX}/", "destination": "nav", "url_route": "cutover-board"},
        {"name": "切换看板", "href": f"{BOARD_URL_PREFIX}/?dag_id={{DAG_ID}}&run_id={{RUN_ID}}",
         "destination": "dag_run", "url_route": "cutover-board-run"},
    ]
