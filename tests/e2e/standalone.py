"""An ``airflow standalone`` on a free loopback port with the rehearsal environment, for e2e and UI tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from airflow_client import DAG_ID, AirflowClient, StandIns

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rehearsal_environment(airflow_home: Path, port: int) -> dict[str, str]:
    """Return the environment scripts/rehearsal-env.sh builds, as the run command uses it."""
    script = f'source "{ROOT}/scripts/rehearsal-env.sh" >/dev/null && env -0'
    # standalone starts its components as `airflow ...`, so the venv's bin must come first on PATH.
    path = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "PATH": path, "AIRFLOW_HOME": str(airflow_home), "VH_API_PORT": str(port), "VH_ROOT": str(ROOT)}
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


class StandaloneAirflow:
    """
    An ``airflow standalone`` process group on one AIRFLOW_HOME and port.

    Crash tests kill it with SIGKILL and start a new one on the same home and port, as an operator
    would after a machine failure. The database and the stand-ins' state file survive that.
    """

    def __init__(self, home: Path, port: int, env: dict[str, str]) -> None:
        self.home = home
        self.port = port
        self.env = env
        self.base_url = f"http://127.0.0.1:{port}"
        self.passwords = home / "simple_auth_manager_passwords.json.generated"
        self.process: subprocess.Popen | None = None

    def start(self, extra_env: dict[str, str] | None = None) -> None:
        """Start standalone and return once the DAG is served; ``extra_env`` applies to this start only."""
        env = {**self.env, **(extra_env or {})}
        with (self.home / "standalone.log").open("a") as log:
            self.process = subprocess.Popen([str(ROOT / ".venv/bin/airflow"), "standalone"], env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True, cwd=self.home)
        client = AirflowClient(self.base_url, self.passwords, self.home / "standalone.log")
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"airflow standalone exited; see {self.home / 'standalone.log'}")
            try:
                if client.request("GET", f"/api/v2/dags/{DAG_ID}").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"DAG {DAG_ID} not served within {START_TIMEOUT_SECONDS}s; see {self.home}")
            time.sleep(2)

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)

    def kill(self) -> None:
        """Send SIGKILL to the whole process group, as a power cut would, and reap the main process."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)

    def group_pids(self, command_part: str) -> list[int]:
        """Return the pids in the process group whose command line contains ``command_part``."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if os.getpgid(int(entry.name)) != self.process.pid:
                    continue
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (ProcessLookupError, FileNotFoundError, PermissionError):
                continue
            if command_part in command:
                pids.append(int(entry.name))
        return pids
