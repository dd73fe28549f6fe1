"""A real Airflow standalone with the stand-ins, started once for the end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from airflow_client import DAG_ID, AirflowClient, StandIns

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 240


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rehearsal_environment(airflow_home: Path, port: int) -> dict[str, str]:
    """Return the environment scripts/rehearsal-env.sh builds, as the run command uses it."""
    script = f'source "{ROOT}/scripts/rehearsal-env.sh" >/dev/null && env -0'
    env = {**os.environ, "AIRFLOW_HOME": str(airflow_home), "VH_API_PORT": str(port), "VH_ROOT": str(ROOT)}
    output = subprocess.run(["bash", "-c", script], env=env, check=True, capture_output=True).stdout
    return dict(item.split("=", 1) for item in output.decode().split("\0") if "=" in item)


def _stop(process: subprocess.Popen) -> None:
    """Stop the whole process group: the scheduler ignores a plain SIGTERM under standalone."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="session")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AirflowClient, StandIns, dict[str, str]]]:
    home = tmp_path_factory.mktemp("airflow_home")
    port = int(os.environ.get("VH_E2E_PORT") or _free_port())
    env = _rehearsal_environment(home, port)
    env["AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL"] = "5"
    passwords = home / "simple_auth_manager_passwords.json.generated"
    subprocess.run([str(ROOT / ".venv/bin/python"), str(ROOT / "scripts/seed_passwords.py"), str(passwords)],
                   env=env, check=True)

    log = (home / "standalone.log").open("w")
    process = subprocess.Popen([str(ROOT / ".venv/bin/airflow"), "standalone"], env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True, cwd=home)
    base_url = f"http://127.0.0.1:{port}"
    try:
        client = AirflowClient(base_url, passwords)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"airflow standalone exited; see {home / 'standalone.log'}")
            try:
                if client.request("GET", f"/api/v2/dags/{DAG_ID}").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"DAG {DAG_ID} not served within {START_TIMEOUT_SECONDS}s; see {home}")
            time.sleep(2)
        client.request("PATCH", f"/api/v2/dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()
        yield client, StandIns(base_url), env
    finally:
        _stop(process)
        log.close()
