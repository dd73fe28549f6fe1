"""The board's plugin: cheap to import in every Airflow process, valid, and building its app on demand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

import vh_cutover_board_plugin as plugin

PLUGINS = Path(__file__).resolve().parents[3] / "plugins"


def test_import_loads_no_web_code():
    probe = ("import sys, vh_cutover_board_plugin; "
             "print([name for name in ('fastapi', 'vh_cutover.board.app', 'airflow.api_fastapi.app') if name in sys.modules])")

    result = subprocess.run([sys.executable, "-c", probe], env={"PYTHONPATH": str(PLUGINS), "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"


def test_plugin_is_valid_with_two_views():
    from airflow.api_fastapi.core_api.datamodels.plugins import ExternalViewResponse
    from airflow.plugins_manager import is_valid_plugin

    assert is_valid_plugin(plugin.CutoverBoardPlugin)
    views = [ExternalViewResponse(**view) for view in plugin.CutoverBoardPlugin.external_views]
    assert {view.destination for view in views} == {"nav", "dag_run"}
    assert len({view.url_route for view in views}) == 2
    assert all(view.name == "切换看板" for view in views)


def test_lazy_app_serves_the_page():
    lazy = plugin.LazyBoardApp()
    host = FastAPI()
    host.mount(plugin.BOARD_URL_PREFIX, lazy)

    with TestClient(host) as http:
        page = http.get("/cutover-board/")

    assert page.status_code == 200
    assert "虚拟人切换看板" in page.text
    assert lazy._app is not None
