"""Tests of the deployment helpers in docker/: new-env.sh, airflow-init.sh checks, init_users.py."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = REPO_ROOT / "docker"


def _load_init_users():
    spec = importlib.util.spec_from_file_location("init_users", DOCKER_DIR / "init_users.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _parse_env(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def _run_init(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess:
    # An unreachable database proves that a check failed before `airflow db migrate` ran.
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "AIRFLOW_HOME": str(tmp_path / "home"),
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__API_AUTH__JWT_SECRET": "jwt-secret-for-test",
        "AIRFLOW__API__SECRET_KEY": "api-secret-for-test",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql+psycopg2://airflow:pw@127.0.0.1:9/none",
        "VH_PASSWORD_WANGYU": "password-for-test",
        **overrides,
    }
    return subprocess.run(
        ["bash", str(DOCKER_DIR / "airflow-init.sh")], env=env, capture_output=True, text=True, timeout=60
    )


def test_new_env_replaces_every_placeholder():
    example = _parse_env((REPO_ROOT / ".env.example").read_text(encoding="utf-8"))

    first = _parse_env(subprocess.run([str(DOCKER_DIR / "new-env.sh")], capture_output=True, text=True, check=True).stdout)
    second = _parse_env(subprocess.run([str(DOCKER_DIR / "new-env.sh")], capture_output=True, text=True, check=True).stdout)

    assert set(first) == set(example)
    assert "change-me" not in first.values()
    Fernet(first["AIRFLOW_FERNET_KEY"].encode())
    assert first["POSTGRES_PASSWORD"] != second["POSTGRES_PASSWORD"]
    assert first["VH_REHEARSAL"] == "false"
    for name, value in example.items():
        if value != "change-me":
            assert first[name] == value, name


def test_init_rejects_example_secret(tmp_path):
    result = _run_init(tmp_path, VH_PASSWORD_WANGYU="change-me")

    assert result.returncode == 1
    assert "VH_PASSWORD_WANGYU" in result.stdout
    assert "step=migrate" not in result.stdout


def test_init_rejects_missing_connections_file(tmp_path):
    result = _run_init(tmp_path, VH_CONNECTIONS_FILE=str(tmp_path / "absent.json"))

    assert result.returncode == 1
    assert "connections file not found" in result.stdout
    assert "step=migrate" not in result.stdout


def test_init_rejects_incomplete_connections_file(tmp_path):
    partial = tmp_path / "connections.json"
    partial.write_text(json.dumps({"vh_ftt_test": {"conn_type": "http", "host": "http://127.0.0.1:1"}}))

    result = _run_init(tmp_path, VH_CONNECTIONS_FILE=str(partial))

    assert result.returncode == 1
    assert "vh_ftt_prod" in result.stderr
    assert "step=migrate" not in result.stdout


def test_init_rejects_example_connection_tokens(tmp_path):
    result = _run_init(tmp_path, VH_CONNECTIONS_FILE=str(DOCKER_DIR / "connections.example.json"))

    assert result.returncode == 1
    assert "example tokens" in result.stderr
    assert "step=migrate" not in result.stdout


def test_load_users_accepts_project_file():
    users = _load_init_users().load_users(DOCKER_DIR / "users.json")

    assert {"username": "wangyu", "name": "王宇", "role": "Admin"} in users


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"username": "x", "name": "X"}, "missing ['role']"),
        ({"username": "x", "name": "X", "role": "admin"}, "invalid role 'admin'"),
    ],
)
def test_load_users_rejects_invalid_entry(tmp_path, entry, message):
    users_file = tmp_path / "users.json"
    users_file.write_text(json.dumps([entry]))

    with pytest.raises(SystemExit, match=message.replace("[", r"\[").replace("]", r"\]")):
        _load_init_users().load_users(users_file)


def test_password_variable_uses_upper_case_username():
    assert _load_init_users().password_variable("suyingu") == "VH_PASSWORD_SUYINGU"
