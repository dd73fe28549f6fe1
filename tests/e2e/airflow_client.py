"""A small client of the Airflow REST API and the stand-ins' control API, as the e2e tests use them."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

DAG_ID = "vh_cutover_528"
GATE_PARKED_TIMEOUT_SECONDS = 120
FINISHED = {"success", "failed", "upstream_failed", "skipped", "removed"}


class AirflowClient:
    """REST calls as the plan's people; each person logs in with their own password."""

    def __init__(self, base_url: str, passwords_file: Path, scheduler_log: Path) -> None:
        self.base_url = base_url.rstrip("/")
        self.scheduler_log = scheduler_log
        self.passwords = json.loads(passwords_file.read_text())
        self._tokens: dict[str, str] = {}
        self.http = httpx.Client(base_url=self.base_url, timeout=30)

    def token(self, user: str) -> str:
        if user not in self._tokens:
            response = self.http.post("/auth/token", json={"username": user, "password": self.passwords[user]})
            response.raise_for_status()
            self._tokens[user] = response.json()["access_token"]
        return self._tokens[user]

    def request(self, method: str, path: str, *, user: str = "wangyu", **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token(user)}"}
        return self.http.request(method, path, headers=headers, **kwargs)

    def run_path(self, run_id: str) -> str:
        return f"/api/v2/dags/{DAG_ID}/dagRuns/{urllib.parse.quote(run_id, safe='')}"

    def trigger(self, conf: dict[str, Any], *, user: str = "wangyu") -> httpx.Response:
        return self.request("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", user=user,
                            json={"logical_date": None, "conf": conf})

    def run_state(self, run_id: str) -> str:
        response = self.request("GET", self.run_path(run_id))
        response.raise_for_status()
        return response.json()["state"]

    def task_states(self, run_id: str) -> dict[str, str | None]:
        response = self.request("GET", f"{self.run_path(run_id)}/taskInstances", params={"limit": 100})
        response.raise_for_status()
        return {ti["task_id"]: ti["state"] for ti in response.json()["task_instances"]}

    def task_instance(self, run_id: str, task_id: str) -> dict[str, Any]:
        response = self.request("GET", f"{self.run_path(run_id)}/taskInstances/{task_id}")
        response.raise_for_status()
        return response.json()

    def xcom(self, run_id: str, task_id: str, key: str = "return_value") -> Any:
        response = self.request("GET", f"{self.run_path(run_id)}/taskInstances/{task_id}/xcomEntries/{key}",
                                params={"deserialize": True, "stringify": False})
        response.raise_for_status()
        return response.json()["value"]

    def wait_for_task(self, run_id: str, task_id: str, states: Iterable[str], *, timeout: float = 180) -> str:
        wanted = set(states)
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            state = self.task_states(run_id).get(task_id)
            if state in wanted:
                return state
            if state in FINISHED - wanted:
                raise AssertionError(f"{task_id} ended {state}, expected {sorted(wanted)}: {self.task_states(run_id)}")
            time.sleep(1)
        raise AssertionError(f"{task_id} still {state} after {timeout}s, expected {sorted(wanted)}")

    def wait_for_run(self, run_id: str, *, timeout: float = 300) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.run_state(run_id)
            if state in ("success", "failed"):
                return state
            time.sleep(1)
        raise AssertionError(f"run {run_id} not finished after {timeout}s: {self.task_states(run_id)}")

    def unfinished_run_ids(self) -> list[str]:
        response = self.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns", params={"state": ["running", "queued"]})
        response.raise_for_status()
        return [run["dag_run_id"] for run in response.json()["dag_runs"]]

    def fail_runs(self, run_ids: Iterable[str]) -> None:
        """Mark runs failed, with their waiting tasks, so a later run is not rejected as concurrent."""
        for run_id in run_ids:
            # A failed run keeps its gates in Required Actions until the gate tasks end too.
            for task_id, state in self.task_states(run_id).items():
                if state in ("awaiting_input", "deferred"):
                    self.request("PATCH", f"{self.run_path(run_id)}/taskInstances/{task_id}",
                                 json={"new_state": "failed"}).raise_for_status()
            self.request("PATCH", self.run_path(run_id), json={"state": "failed"}).raise_for_status()

    def fail_unfinished_runs(self) -> list[str]:
        """Mark every queued or running run failed and return their ids."""
        run_ids = self.unfinished_run_ids()
        self.fail_runs(run_ids)
        return run_ids

    def answer_gate(self, run_id: str, task_id: str, option: str, *, user: str) -> httpx.Response:
        """
        Respond to a gate as ``user`` once the scheduler has finished with the gate's parked try.

        NOTE: Airflow 3.3.2's scheduler fails a try whose executor event it processes after a
        response has already moved the task on, because the resumed try is queued under the same
        try number. On a busy scheduler that event can come seconds late. People rarely respond
        that fast, but tests do, so they wait for the scheduler's "TaskInstance Finished" line
        of the parked try.
        """
        self.wait_for_task(run_id, task_id, {"awaiting_input"}, timeout=GATE_PARKED_TIMEOUT_SECONDS)
        try_number = self.task_instance(run_id, task_id)["try_number"]
        self.wait_for_parked_try(run_id, task_id, try_number)
        return self.request(
            "PATCH", f"{self.run_path(run_id)}/taskInstances/{task_id}/-1/hitlDetails", user=user,
            json={"chosen_options": [option], "params_input": {}},
        )

    def wait_for_parked_try(self, run_id: str, task_id: str, try_number: int) -> None:
        """Wait until the scheduler log shows it processed the executor event of a try waiting for input."""
        marks = (f"task_id={task_id}, run_id={run_id}, ", "state=awaiting_input, ", f"try_number={try_number}, ")
        deadline = time.monotonic() + GATE_PARKED_TIMEOUT_SECONDS
        with self.scheduler_log.open(encoding="utf-8", errors="replace") as log:
            while time.monotonic() < deadline:
                # Lines appended since the last pass; a partly written last line is read again.
                position = log.tell()
                line = log.readline()
                while line.endswith("\n"):
                    if "TaskInstance Finished:" in line and all(mark in line for mark in marks):
                        return
                    position = log.tell()
                    line = log.readline()
                log.seek(position)
                time.sleep(0.5)
        raise AssertionError(f"the scheduler never finished try {try_number} of {task_id}; see {self.scheduler_log}")

    def clear_tasks(self, run_id: str, task_ids: list[str], *, include_downstream: bool = False) -> httpx.Response:
        response = self.request(
            "POST", f"/api/v2/dags/{DAG_ID}/clearTaskInstances",
            json={"dry_run": False, "dag_run_id": run_id, "task_ids": task_ids, "only_failed": False,
                  "include_downstream": include_downstream, "reset_dag_runs": True},
        )
        response.raise_for_status()
        return response


class StandIns:
    """The rehearsal control API: the vendor's and the OTA team's side of the rehearsal."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=f"{base_url.rstrip('/')}/rehearsal", timeout=30)

    def post(self, path: str, body: Any = None) -> dict[str, Any]:
        response = self.http.post(path, json=body)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self.post("/control/reset")

    def state(self) -> dict[str, Any]:
        return self.http.get("/control/state").raise_for_status().json()

    def write_count(self) -> int:
        return self.http.get("/control/writes").raise_for_status().json()["count"]

    def writes(self) -> list[dict[str, Any]]:
        return self.http.get("/control/writes").raise_for_status().json()["writes"]

    def messages(self) -> list[dict[str, Any]]:
        return self.http.get("/chat/robot/messages").raise_for_status().json()["messages"]

    def upgrade_ftt(self, outcome: str = "succeed", duration_seconds: float = 2) -> None:
        self.post("/control/ftt/upgrade", {"outcome": outcome, "duration_seconds": duration_seconds})

    def push_ota(self, product: str = "wandechu_2_0", version: str = "2.7.0") -> None:
        self.post("/control/ota/push", {"product": product, "version": version})

    def set_faults(self, faults: list[dict[str, Any]]) -> None:
        self.http.put("/control/faults", json=faults).raise_for_status()

    def clear_faults(self) -> None:
        self.http.delete("/control/faults").raise_for_status()
