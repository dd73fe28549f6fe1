"""Check that docker-compose.yaml, the Dockerfile and .env.example agree with the project."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from vh_cutover.plan import load_plan

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yaml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
ENV_EXAMPLE = REPO_ROOT / ".env.example"

INIT_SERVICE = "airflow-init"
LONG_RUNNING_SERVICES = {
    "postgres",
    "redis",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
}
AIRFLOW_SERVICES = {INIT_SERVICE} | LONG_RUNNING_SERVICES - {"postgres", "redis"}
# The people of the plan are the users of the deployment.
PLAN = load_plan()
OWNERS = set(PLAN.people)
CONNECTION_IDS = {
    "vh_ftt_test",
    "vh_ftt_prod",
    "vh_gray_rules",
    "vh_remote_config",
    "vh_release_pipeline",
    "vh_device_fleet",
    "vh_ota",
    "vh_chat",
}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY$")
VARIABLE_REFERENCE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;#]+)", line.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def _env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value
    return values


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def requirements() -> dict[str, str]:
    return _pins(REPO_ROOT / "requirements.txt")


@pytest.fixture(scope="module")
def constraints() -> dict[str, str]:
    return _pins(REPO_ROOT / "constraints.txt")


def test_airflow_version_pinned_everywhere(compose, requirements, constraints):
    version = requirements["apache-airflow"]
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")

    assert constraints["apache-airflow"] == version
    assert re.search(rf"^FROM apache/airflow:{re.escape(version)}-python3\.11\s*$", dockerfile, re.M)
    assert f'"apache-airflow=={version}"' in dockerfile
    for name in AIRFLOW_SERVICES:
        assert f":{version}" in compose["services"][name]["image"], name


def test_dockerfile_installs_requirements_with_constraints():
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")

    assert re.search(r"^COPY .*requirements\.txt constraints\.txt /opt/vh-cutover/", dockerfile, re.M)
    assert "-r /opt/vh-cutover/requirements.txt" in dockerfile
    assert "-c /opt/vh-cutover/constraints.txt" in dockerfile


def test_providers_locked_at_required_versions(requirements, constraints):
    providers = {name: pin for name, pin in requirements.items() if name.startswith("apache-airflow-providers-")}

    assert {"apache-airflow-providers-celery", "apache-airflow-providers-fab", "apache-airflow-providers-postgres"} <= set(providers)
    for name, pin in providers.items():
        assert constraints.get(name) == pin, f"{name}: requirements {pin}, constraints {constraints.get(name)}"


def test_every_topology_service_present(compose):
    assert set(compose["services"]) == LONG_RUNNING_SERVICES | {INIT_SERVICE}


@pytest.mark.parametrize("name", sorted(LONG_RUNNING_SERVICES))
def test_long_running_service_has_healthcheck(compose, name):
    healthcheck = compose["services"][name].get("healthcheck")

    assert healthcheck, f"{name} has no healthcheck"
    assert healthcheck["test"][0] in {"CMD", "CMD-SHELL"}
    assert healthcheck.get("retries", 0) > 0


@pytest.mark.parametrize("name", sorted(AIRFLOW_SERVICES))
def test_airflow_service_waits_for_dependencies(compose, name):
    depends_on = compose["services"][name]["depends_on"]

    assert depends_on["postgres"] == {"condition": "service_healthy"}
    assert depends_on["redis"] == {"condition": "service_healthy"}
    if name != INIT_SERVICE:
        assert depends_on[INIT_SERVICE] == {"condition": "service_completed_successfully"}
    for dependency, rule in depends_on.items():
        assert rule["condition"] in {"service_healthy", "service_completed_successfully"}, dependency


def test_init_runs_once(compose):
    init = compose["services"][INIT_SERVICE]

    assert init["restart"] == "no"
    assert "airflow-init.sh" in " ".join(init["command"])


@pytest.mark.parametrize("name", sorted(AIRFLOW_SERVICES))
def test_airflow_service_uses_celery_executor(compose, name):
    environment = compose["services"][name]["environment"]

    assert environment["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert environment["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:")
    assert environment["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")


@pytest.mark.parametrize("name", sorted(AIRFLOW_SERVICES))
def test_airflow_service_mounts_project(compose, name):
    targets = {volume.split(":")[1] for volume in compose["services"][name]["volumes"]}

    assert {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/config", "/opt/airflow/logs"} <= targets


def test_fab_auth_manager_by_default(compose):
    environment = compose["services"]["airflow-apiserver"]["environment"]

    assert environment["AIRFLOW__CORE__AUTH_MANAGER"].endswith(
        ":-airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager}"
    )


def test_no_literal_secrets(compose):
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            value = str(value)
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+:?[?-].*\}", value), f"{name}.{key} is a literal: {value!r}"
            credentials = re.search(r"://[^/@\s]*:([^@/\s]+)@", value)
            if credentials:
                assert credentials.group(1).startswith("${"), f"{name}.{key} has a literal password"


def test_required_secrets_have_no_default():
    text = COMPOSE_FILE.read_text(encoding="utf-8")

    for variable in ("POSTGRES_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY"):
        references = re.findall(rf"\$\{{{variable}(:?[?-])", text)
        assert references, f"{variable} is not used"
        assert set(references) == {":?"}, f"{variable} must be required (${{{variable}:?...}})"


def test_rehearsal_off_by_default(compose):
    for name in AIRFLOW_SERVICES:
        assert compose["services"][name]["environment"]["VH_REHEARSAL"] == "${VH_REHEARSAL:-false}", name

    assert _env_example()["VH_REHEARSAL"] == "false"


def test_compose_variables_documented():
    used = set(VARIABLE_REFERENCE.findall(COMPOSE_FILE.read_text(encoding="utf-8")))
    documented = set(_env_example())

    assert used, "no ${VAR} reference found in docker-compose.yaml"
    assert used - documented == set()


def test_env_example_secrets_are_placeholders():
    for name, value in _env_example().items():
        if SECRET_NAME.search(name) and name != "VH_REHEARSAL_TOKEN":
            assert value == "change-me", f"{name} in .env.example must be the placeholder change-me"


def test_users_file_lists_owners_with_passwords(compose):
    users = json.loads((REPO_ROOT / "docker" / "users.json").read_text(encoding="utf-8"))
    usernames = {user["username"] for user in users}
    init_environment = compose["services"][INIT_SERVICE]["environment"]

    assert OWNERS | {"admin"} == usernames
    for user in users:
        if user["username"] in PLAN.people:
            assert user["name"] == PLAN.people[user["username"]], user
    for username in usernames:
        assert f"VH_PASSWORD_{username.upper()}" in init_environment, username


@pytest.mark.parametrize("file_name", ["connections.example.json", "connections.rehearsal.json"])
def test_connections_file_defines_every_hook(file_name):
    connections = json.loads((REPO_ROOT / "docker" / file_name).read_text(encoding="utf-8"))

    assert set(connections) == CONNECTION_IDS
    for conn_id, fields in connections.items():
        assert fields["conn_type"] == "http", conn_id
        assert fields["host"].startswith(("http://", "https://")), conn_id


def test_rehearsal_connections_target_apiserver(compose):
    connections = json.loads((REPO_ROOT / "docker" / "connections.rehearsal.json").read_text(encoding="utf-8"))
    api_port = compose["services"]["airflow-apiserver"]["command"][-1]

    for conn_id, fields in connections.items():
        assert fields["host"].startswith(f"http://airflow-apiserver:{api_port}/rehearsal/"), conn_id


def _compose_project(tmp_path: Path, env_text: str) -> Path:
    shutil.copy(COMPOSE_FILE, tmp_path / "docker-compose.yaml")
    (tmp_path / ".env").write_text(env_text, encoding="utf-8")
    return tmp_path


def _docker_compose(project: Path, *args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    return subprocess.run(
        [binary, "--project-directory", str(project), "--file", str(project / "docker-compose.yaml"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_docker_compose_config_valid(tmp_path):
    project = _compose_project(tmp_path, ENV_EXAMPLE.read_text(encoding="utf-8"))

    result = _docker_compose(project, "config", "-q")

    assert result.returncode == 0, result.stderr


def test_docker_compose_rejects_missing_secret(tmp_path):
    env_text = re.sub(r"^POSTGRES_PASSWORD=.*\n", "", ENV_EXAMPLE.read_text(encoding="utf-8"), flags=re.M)
    project = _compose_project(tmp_path, env_text)

    result = _docker_compose(project, "config", "-q")

    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr
