"""
The same rehearsal on the production topology, run natively: PostgreSQL metadata database,
CeleryExecutor with Redis, and api-server, scheduler, dag-processor, triggerer and a Celery worker
as separate processes (scripts/topology.sh).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_client import DAG_ID, AirflowClient, StandIns
from standalone import ROOT, free_port, rehearsal_environment
from scenario import assert_target_state, play_until_done, start_run

pytestmark = pytest.mark.e2e

TOPOLOGY = ROOT / "scripts" / "topology.sh"
# What the topology takes from the rehearsal environment. It sets Airflow's own settings itself,
# and with VH_REHEARSAL=true its own connections, token and robot secrets.
PASSED_THROUGH = ("VH_REHEARSAL", "VH_REHEARSAL_DB", "VH_CUTOVER_CONTACTS", "PYTHONPATH")


def _reachable(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AirflowClient, StandIns, Path]]:
    if not (_reachable(5432) and _reachable(6379)) or shutil.which("psql") is None:
        pytest.skip("needs PostgreSQL and psql on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 (scripts/services.sh)")
    state_dir = tmp_path_factory.mktemp("topology")
    port = free_port()
    rehearsal = rehearsal_environment(state_dir / "home", port)
    env = {
        **os.environ,
        **{key: rehearsal[key] for key in PASSED_THROUGH},
        "VH_TOPOLOGY_STATE_DIR": str(state_dir),
        "VH_TOPOLOGY_PORT": str(port),
        "VH_TOPOLOGY_DB": "vh_cutover_topology_e2e",
        "VH_TOPOLOGY_REDIS_URL": "redis://127.0.0.1:6379/6",
    }

    def topology_command(command: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(TOPOLOGY), command], env=env, capture_output=True, text=True, timeout=400)

    started = topology_command("start")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        base_url = f"http://127.0.0.1:{port}"
        client = AirflowClient(base_url, Path(state_dir) / "home" / "simple_auth_manager_passwords.json.generated",
                               Path(state_dir) / "logs" / "scheduler.log")
        deadline = time.monotonic() + 180
        while client.request("GET", f"/api/v2/dags/{DAG_ID}").status_code != 200:
            if time.monotonic() > deadline:
                raise AssertionError(f"{DAG_ID} not parsed by the dag-processor; see {state_dir}/logs")
            time.sleep(2)
        client.request("PATCH", f"/api/v2/dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()
        yield client, StandIns(base_url), state_dir
    finally:
        stopped = topology_command("reset")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr


def test_rehearsal_passes_on_celery_topology(topology):
    client, stand_ins, state_dir = topology
    run_id = start_run(client, stand_ins)
    play_until_done(client, stand_ins, run_id)

    assert client.wait_for_run(run_id) == "success", client.task_states(run_id)
    assert_target_state(stand_ins)
    # The tasks ran on the Celery worker, not inside the scheduler.
    worker_log = (state_dir / "logs" / "worker.log").read_text(errors="replace")
    assert worker_log.count("succeeded in") >= 20
