"""
The benchmark's measurements: DAG parse time and memory, stand-in latency, and a whole rehearsal.

Every measurement runs on loopback only. The rehearsal starts one ``airflow standalone`` with the
end-to-end suite's environment (``tests/e2e``) and stops its whole process group afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
PARSE_PROBE = ROOT / "tests" / "dags" / "parse_probe.py"
E2E_DIR = ROOT / "tests" / "e2e"
DAG_ID = "vh_cutover_528"
PROBE_TIMEOUT_SECONDS = 120
REHEARSAL_TIMEOUT_SECONDS = 600
# How often the rehearsal player looks for a waiting gate; it bounds the player's own delay.
PLAYER_POLL_SECONDS = 0.25
FTT_UPGRADE_SECONDS = 1.0
# Reads of the board after the rehearsal, for its latency figure.
BOARD_REQUESTS = 30
STAND_IN_TOKEN = "bench-token"

# Each gate, the user who responds, the chosen option, and the task that the response releases.
GATES = (
    ("ftt_upgrade.confirm_ftt_upgrade", "luyiye", "确认升级成功", "ftt_upgrade.announce_ftt_upgrade"),
    ("verification.sign_off", "chenanqi", "验证通过，继续", "verification.verification_passed"),
    ("reclaim.approve_reclaim", "huangjingwei", "回收测试环境", "reclaim.reclaim_test_environment"),
)


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile of ``values`` (``share`` between 0 and 1)."""
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


# --- DAG parse ----------------------------------------------------------------------------------

def _parse_environment(airflow_home: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
    env.update({
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "VH_CUTOVER_CONTACTS": str(ROOT / "config" / "contacts.example.yaml"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "plugins"), os.environ.get("PYTHONPATH")])),
    })
    return env


def measure_parse(runs: int) -> dict[str, Any]:
    """
    Parse the DAG folder ``runs`` times, each in a fresh interpreter under the isolation probe.

    :returns: median and maximum ``DagBag`` time, median process wall time (interpreter start and
        Airflow import included), and the largest peak RSS of a parse process.
    """
    dagbag_seconds, wall_seconds, peak_rss = [], [], []
    with tempfile.TemporaryDirectory(prefix="vh-bench-parse-") as scratch:
        env = _parse_environment(Path(scratch) / "airflow_home")
        for index in range(runs):
            output = Path(scratch) / f"probe-{index}.json"
            started = time.perf_counter()
            completed = subprocess.run(
                [sys.executable, str(PARSE_PROBE), str(ROOT / "dags"), str(output)],
                env=env, cwd=ROOT, capture_output=True, text=True, timeout=PROBE_TIMEOUT_SECONDS,
            )
            wall_seconds.append(time.perf_counter() - started)
            if completed.returncode != 0:
                raise RuntimeError(f"parse probe failed with exit code {completed.returncode}: {completed.stderr[-2000:]}")

            result = json.loads(output.read_text(encoding="utf-8"))
            if result["import_errors"] or DAG_ID not in result["dags"]:
                raise RuntimeError(f"DAG folder did not parse cleanly: {result['import_errors']}")
            dagbag_seconds.append(result["dagbag_seconds"])
            peak_rss.append(result["peak_rss_bytes"])

    return {
        "runs": runs,
        "dagbag_median_s": statistics.median(dagbag_seconds),
        "dagbag_max_s": max(dagbag_seconds),
        "process_median_s": statistics.median(wall_seconds),
        "peak_rss_mib": max(peak_rss) / 2**20,
    }


# --- stand-in latency ---------------------------------------------------------------------------

@contextmanager
def _served_stand_ins(db_path: Path) -> Iterator[str]:
    """Serve the stand-in app on a free loopback port and yield its base URL."""
    from vh_cutover.rehearsal.app import create_app
    from vh_cutover.rehearsal.loopback import serve_on_loopback

    with serve_on_loopback(create_app(str(db_path))) as base_url:
        yield base_url


def _timed_requests(http: httpx.Client, count: int, method: str, path: str, **kwargs: Any) -> list[float]:
    durations = []
    for _ in range(count):
        started = time.perf_counter()
        response = http.request(method, path, **kwargs)
        durations.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return durations


def measure_stand_ins(requests_per_kind: int) -> dict[str, Any]:
    """
    Time a GET and a PUT of the gray-rule stand-in through uvicorn, one request at a time.

    The PUT alternates between two versions, so every request is a real write to SQLite.
    """
    os.environ.pop("VH_REHEARSAL_TOKEN", None)
    path = "/gray-rules/rules/wandechu_app/virtual_human"
    with tempfile.TemporaryDirectory(prefix="vh-bench-standins-") as scratch, \
            _served_stand_ins(Path(scratch) / "rehearsal.sqlite3") as base_url, \
            httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {STAND_IN_TOKEN}"}, timeout=10) as http:
        _timed_requests(http, 5, "GET", path)
        get_ms = _timed_requests(http, requests_per_kind, "GET", path)

        put_ms = []
        for index in range(requests_per_kind):
            version = "4.4.9" if index % 2 else "4.4.8"
            put_ms.extend(_timed_requests(http, 1, "PUT", path, json={"min_version": version, "updated_by": "bench"}))

    return {
        "requests": requests_per_kind,
        "get_p50_ms": percentile(get_ms, 0.50),
        "get_p95_ms": percentile(get_ms, 0.95),
        "put_p50_ms": percentile(put_ms, 0.50),
        "put_p95_ms": percentile(put_ms, 0.95),
    }


# --- full rehearsal -----------------------------------------------------------------------------

@contextmanager
def _standalone_airflow() -> Iterator[tuple[Any, Any]]:
    """Start ``airflow standalone`` as the end-to-end suite does and yield its REST and stand-in clients."""
    sys.path.insert(0, str(E2E_DIR))
    from airflow_client import AirflowClient, StandIns
    from standalone import StandaloneAirflow, free_port, rehearsal_environment

    with tempfile.TemporaryDirectory(prefix="vh-bench-airflow-") as scratch:
        home = Path(scratch)
        port = free_port()
        env = rehearsal_environment(home, port)
        env["AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL"] = "5"
        server = StandaloneAirflow(home, port, env)
        subprocess.run([str(ROOT / ".venv/bin/python"), str(ROOT / "scripts/seed_passwords.py"), str(server.passwords)],
                       env=env, check=True)
        try:
            server.start()
            client = AirflowClient(server.base_url, server.passwords, home / "standalone.log")
            client.request("PATCH", f"/api/v2/dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()
            yield client, StandIns(server.base_url)
        finally:
            server.stop()


def _parse_time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _play(client: Any, stand_ins: Any, run_id: str) -> tuple[dict[str, dt.datetime], dict[str, int]]:
    """
    Play the vendor, the OTA team and each gate owner as soon as the run waits for them.

    Each response waits until the scheduler is done with the gate's parked try (see
    ``AirflowClient.answer_gate``), so the figures include that wait.

    :returns: when each gate was last answered, and how many times a gate asked again after
        an answer (a new try of the gate task creates a new request and drops the old answer).
    """
    answered: dict[str, dt.datetime] = {}
    answered_tries: dict[str, set[int]] = {gate_id: set() for gate_id, *_ in GATES}
    asked_again = {gate_id: 0 for gate_id, *_ in GATES}
    upgrade_started = False
    deadline = time.monotonic() + REHEARSAL_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        states = client.task_states(run_id)
        if not upgrade_started and states.get("ftt_upgrade.wait_for_ftt_upgrade") == "deferred":
            stand_ins.upgrade_ftt("succeed", duration_seconds=FTT_UPGRADE_SECONDS)
            upgrade_started = True

        for gate_id, user, option, _ in GATES:
            if states.get(gate_id) != "awaiting_input":
                continue
            try_number = client.task_instance(run_id, gate_id)["try_number"]
            if try_number in answered_tries[gate_id]:
                continue

            response = client.answer_gate(run_id, gate_id, option, user=user)
            if response.status_code != 200:
                raise RuntimeError(f"response to {gate_id} as {user} with {option!r} failed: {response.status_code} {response.text}")
            if answered_tries[gate_id]:
                asked_again[gate_id] += 1
            answered_tries[gate_id].add(try_number)
            answered[gate_id] = dt.datetime.now(dt.timezone.utc)

        if client.run_state(run_id) in ("success", "failed"):
            return answered, asked_again
        time.sleep(PLAYER_POLL_SECONDS)
    raise RuntimeError(f"run {run_id} not finished within {REHEARSAL_TIMEOUT_SECONDS}s: {client.task_states(run_id)}")


def measure_rehearsal() -> dict[str, Any]:
    """
    Run the whole cutover against the stand-ins and time it from trigger to the run's end.

    The OTA push is announced before the trigger and the vendor's upgrade takes
    ``FTT_UPGRADE_SECONDS``, so the figure is Airflow's own pace plus the DAG's work.
    """
    with _standalone_airflow() as (client, stand_ins):
        stand_ins.reset()
        stand_ins.push_ota()

        started = time.perf_counter()
        response = client.trigger({"poll_interval_seconds": 1})
        response.raise_for_status()
        run_id = response.json()["dag_run_id"]
        answered, asked_again = _play(client, stand_ins, run_id)
        wall_seconds = time.perf_counter() - started
        state = client.run_state(run_id)

        gate_latency = {}
        for gate_id, _, _, next_task_id in GATES:
            next_start = _parse_time(client.task_instance(run_id, next_task_id).get("start_date"))
            if gate_id in answered and next_start:
                gate_latency[gate_id] = (next_start - answered[gate_id]).total_seconds()
        board_ms = _board_latencies(client, run_id, BOARD_REQUESTS)

    return {"run_state": state, "wall_s": wall_seconds, "gate_to_next_task_s": gate_latency,
            "gate_asked_again": asked_again, "board_p95_ms": percentile(board_ms, 0.95)}


def _board_latencies(client: Any, run_id: str, count: int) -> list[float]:
    """Time ``count`` reads of the finished run's board, one at a time, in milliseconds."""
    durations = []
    for _ in range(count):
        started = time.perf_counter()
        client.request("GET", "/cutover-board/api/board", params={"run_id": run_id}).raise_for_status()
        durations.append((time.perf_counter() - started) * 1000)
    return durations
