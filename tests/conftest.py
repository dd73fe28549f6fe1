"""
Fixtures shared by every test folder: the stand-ins served by uvicorn on loopback, and one real
Airflow standalone for the whole session (end-to-end and UI tests).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from airflow_client import DAG_ID, AirflowClient, StandIns
from standalone import ROOT, StandaloneAirflow, free_port, rehearsal_environment



@pytest.fixture(scope="session")
def rehearsal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the stand-in app with uvicorn on a free loopback port and yield its base URL."""
    # Imported here so that collecting the end-to-end tests does not load FastAPI and uvicorn.
    from vh_cutover.rehearsal.app import create_app
    from vh_cutover.rehearsal.loopback import serve_on_loopback

    with serve_on_loopback(create_app(str(tmp_path_factory.mktemp("rehearsal") / "rehearsal.sqlite3"))) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def airflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneAirflow]:
    """Start the session's standalone Airflow; tests that crash it get it through this fixture."""
    home = tmp_path_factory.mktemp("airflow_home")
    port = int(os.environ.get("VH_E2E_PORT") or free_port())
    env = rehearsal_environment(home, port)
    env["AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL"] = "5"
    server = StandaloneAirflow(home, port, env)
    subprocess.run([str(ROOT / ".venv/bin/python"), str(ROOT / "scripts/seed_passwords.py"), str(server.passwords)],
                   env=env, check=True)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def airflow(airflow_server: StandaloneAirflow) -> Iterator[tuple[AirflowClient, StandIns, dict[str, str]]]:
    client = AirflowClient(airflow_server.base_url, airflow_server.passwords, airflow_server.home / "standalone.log")
    client.request("PATCH", f"/api/v2/dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()
    yield client, StandIns(airflow_server.base_url), airflow_server.env


@pytest.fixture(autouse=True)
def _fail_unfinished_runs(request: pytest.FixtureRequest) -> Iterator[None]:
    """
    After each test that used the shared Airflow, fail the runs it started and left unfinished.

    Runs that were already unfinished when the test began belong to a wider-scoped fixture (set
    up before this one), which ends them itself.
    """
    if "airflow" not in request.fixturenames:
        yield
        return
    client, _, _ = request.getfixturevalue("airflow")
    before = set(client.unfinished_run_ids())
    yield
    client.fail_runs(run_id for run_id in client.unfinished_run_ids() if run_id not in before)
