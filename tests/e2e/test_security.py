"""
Security of the rehearsal setup: stand-ins only in rehearsal, gates only for their owners, no secrets in logs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scenario import start_run

ROOT = Path(__file__).resolve().parents[2]
FTT_GATE = "ftt_upgrade.confirm_ftt_upgrade"
# Built by Airflow's own api-server factory in a fresh interpreter, because plugins load once per process.
API_APP_PROBE = """
import json, sys
from fastapi.testclient import TestClient
from airflow.api_fastapi.app import create_app
import vh_cutover_rehearsal_plugin as plugin

app = create_app()
mounts = sorted(getattr(route, "path", "") for route in app.routes if getattr(route, "path", "").startswith("/rehearsal"))
with TestClient(app) as client:
    state = client.get("/rehearsal/control/state")
    reset = client.post("/rehearsal/control/reset")
print(json.dumps({
    "plugin_apps": len(plugin.RehearsalStandInsPlugin.fastapi_apps),
    "stand_in_code_loaded": "vh_cutover.rehearsal.app" in sys.modules,
    "mounts": mounts,
    "state_status": state.status_code,
    "state_type": state.headers.get("content-type", ""),
    "reset_status": reset.status_code,
}))
"""


def probe_api_server(tmp_path: Path, rehearsal: str | None) -> dict:
    """Build the api-server app with the project's plugins and probe ``/rehearsal`` in-process."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "VH_"))}
    env.update({
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(tmp_path / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__API_AUTH__JWT_SECRET": "security-test-jwt-secret",
        "PYTHONPATH": str(ROOT / "plugins"),
        "VH_REHEARSAL_DB": str(tmp_path / "rehearsal.sqlite3"),
    })
    if rehearsal is not None:
        env["VH_REHEARSAL"] = rehearsal
    result = subprocess.run([sys.executable, "-c", API_APP_PROBE], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("setting", [None, "1"])
def test_production_serves_no_stand_ins(tmp_path, setting):
    probe = probe_api_server(tmp_path, setting)

    assert probe["plugin_apps"] == 0
    assert probe["stand_in_code_loaded"] is False
    assert probe["mounts"] == []
    # The UI serves its HTML page for unknown GET paths, so only a JSON response would come from a stand-in.
    assert "application/json" not in probe["state_type"]
    assert probe["reset_status"] in (404, 405)
    assert not (tmp_path / "rehearsal.sqlite3").exists()


def test_rehearsal_serves_stand_ins(tmp_path):
    """The probe itself can see the stand-ins when rehearsal is on, so the test above can fail."""
    probe = probe_api_server(tmp_path, "true")

    assert probe["plugin_apps"] == 1
    assert probe["mounts"] == ["/rehearsal"]
    assert probe["state_status"] == 200
    assert "application/json" in probe["state_type"]
    assert probe["reset_status"] == 200


@pytest.mark.e2e
def test_gate_and_logs_guarded(airflow):
    """Only assigned users may respond to a gate, and task logs and rendered fields do not contain the token."""
    client, stand_ins, env = airflow
    token = env["VH_REHEARSAL_TOKEN"]
    assert len(token) >= 16
    run_id = start_run(client, stand_ins)
    try:
        client.wait_for_task(run_id, "ftt_upgrade.wait_for_ftt_upgrade", {"deferred"}, timeout=240)
        stand_ins.upgrade_ftt("succeed", duration_seconds=1)
        client.wait_for_task(run_id, FTT_GATE, {"awaiting_input"}, timeout=120)

        for outsider in ("admin", "chenjian", "suyingu"):
            refused = client.answer_gate(run_id, FTT_GATE, "确认升级成功", user=outsider)
            assert refused.status_code == 403, (outsider, refused.text)
        anonymous = client.http.patch(f"{client.run_path(run_id)}/taskInstances/{FTT_GATE}/-1/hitlDetails",
                                      json={"chosen_options": ["确认升级成功"], "params_input": {}})
        assert anonymous.status_code == 401
        assert client.task_states(run_id)[FTT_GATE] == "awaiting_input"

        for task_id in ("preflight.check_systems", "app_gray_rule.apply_gray_rule", "ftt_upgrade.wait_for_ftt_upgrade"):
            response = client.request("GET", f"{client.run_path(run_id)}/taskInstances/{task_id}/logs/1",
                                      params={"full_content": True})
            assert response.status_code == 200, (task_id, response.text)
            assert len(response.text) > 200, (task_id, response.text)
            assert token not in response.text, task_id
            rendered = client.task_instance(run_id, task_id).get("rendered_fields") or {}
            assert token not in json.dumps(rendered, ensure_ascii=False), task_id
        gray_log = client.request("GET", f"{client.run_path(run_id)}/taskInstances/app_gray_rule.apply_gray_rule/logs/1",
                                  params={"full_content": True}).text
        assert "audit run_id=" in gray_log
        assert "system=gray_rules" in gray_log
    finally:
        client.request("PATCH", client.run_path(run_id), json={"state": "failed"})


def _listening_addresses(port: int) -> set[str]:
    """Return the local addresses of the sockets listening on ``port``, from /proc/net/tcp and tcp6."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A is TCP_LISTEN
                addresses.add(address)
    return addresses


@pytest.mark.e2e
def test_rehearsal_listens_on_loopback_only(airflow):
    """The stand-ins' control API has no authentication, so the rehearsal api-server binds to 127.0.0.1 only."""
    client, _, _ = airflow
    port = int(client.base_url.rsplit(":", 1)[1])

    # 0100007F is 127.0.0.1 in the kernel's byte order; 0.0.0.0 would be 00000000.
    assert _listening_addresses(port) == {"0100007F"}
