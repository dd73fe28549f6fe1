"""The board's routes: the page, authentication and authorization, and the run they show."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

from vh_cutover.board import app as board_app
from vh_cutover.board.compose import BoardStep, BoardTask

UTC = dt.timezone.utc
RUNS = [
    {"run_id": "run-2", "state": "running", "start_date": dt.datetime(2024, 5, 28, 2, tzinfo=UTC), "end_date": None,
     "conf": {"dry_run": True}},
    {"run_id": "run-1", "state": "failed", "start_date": dt.datetime(2024, 5, 27, 2, tzinfo=UTC), "end_date": None,
     "conf": {}},
]
LAYOUT = [BoardStep("preflight", "预检与计划通知", (BoardTask("preflight.check_systems", "检查各系统可访问", "王宇"),))]


class FakeAuthManager:
    def __init__(self, allowed: set[str]) -> None:
        self.allowed = allowed
        self.requests = []

    def is_authorized_dag(self, *, method, access_entity, details, user):
        self.requests.append((method, access_entity.name, details.id, user.login))
        return user.login in self.allowed


@pytest.fixture
def auth(monkeypatch):
    manager = FakeAuthManager({"wangyu"})
    monkeypatch.setattr(board_app, "get_auth_manager", lambda: manager)
    return manager


@pytest.fixture
def fake_db(monkeypatch):
    """Serve two runs of the DAG and one task instance without a metadata database."""
    def recent_runs(dag_id, session, *, limit=20):
        return RUNS[:limit] if dag_id == "vh_cutover_528" else []

    def run_with_dag(dag_id, run_id, session):
        run = next((run for run in RUNS if run["run_id"] == run_id), None)
        return None if run is None else (run, SimpleNamespace(timezone=SimpleNamespace(name="Asia/Shanghai")))

    monkeypatch.setattr(board_app.queries, "recent_runs", recent_runs)
    monkeypatch.setattr(board_app.queries, "dag_timezone", lambda dag_id, session: "Asia/Shanghai")
    monkeypatch.setattr(board_app.queries, "run_with_dag", run_with_dag)
    monkeypatch.setattr(board_app.queries, "task_instances",
                        lambda dag_id, run_id, session: ({"preflight.check_systems": {"state": "success"}}, {}))
    monkeypatch.setattr(board_app.queries, "gate_details", lambda ti_ids, session: {})
    monkeypatch.setattr(board_app.queries, "audit_records", lambda dag_id, run_id, session: {})
    monkeypatch.setattr(board_app.queries, "summary_state",
                        lambda dag_id, run_id, task_id, session: "已回滚到测试环境" if run_id == "run-1" else None)
    monkeypatch.setattr(board_app, "dag_layout", lambda dag: LAYOUT)


def client_as(login: str | None) -> TestClient:
    app = board_app.create_app()

    def user():
        if login is None:
            raise HTTPException(401, detail="Not authenticated")
        return SimpleNamespace(login=login)

    app.dependency_overrides[board_app.get_user] = user
    app.dependency_overrides[board_app._session] = lambda: None
    return TestClient(app, root_path="/cutover-board")


def test_page_is_chinese_and_knows_its_root():
    response = client_as(None).get("/")

    assert response.status_code == 200
    assert "<title>虚拟人切换看板</title>" in response.text
    assert 'const ROOT = "/cutover-board";' in response.text


def test_board_defaults_to_latest_run(auth, fake_db):
    response = client_as("wangyu").get("/api/board")

    assert response.status_code == 200, response.text
    board = response.json()
    assert board["run_id"] == "run-2"
    assert board["dry_run"] is True
    assert board["steps"][0]["tasks"][0]["state_label"] == "完成"
    assert board["steps"][0]["tasks"][0]["link"].startswith("/dags/vh_cutover_528/runs/run-2/")
    assert {entity for _, entity, _, _ in auth.requests} == {"RUN", "TASK_INSTANCE", "HITL_DETAIL", "XCOM"}


def test_board_of_named_run_shows_outcome(auth, fake_db):
    response = client_as("wangyu").get("/api/board", params={"run_id": "run-1"})

    assert response.json()["run_id"] == "run-1"
    assert response.json()["run_state_label"] == "已回滚到测试环境"


def test_empty_run_id_means_latest(auth, fake_db):
    response = client_as("wangyu").get("/api/board", params={"run_id": ""})

    assert response.json()["run_id"] == "run-2"
    assert response.json()["run_state_label"] == "进行中"


def test_runs_listed_newest_first(auth, fake_db):
    runs = client_as("wangyu").get("/api/runs").json()["runs"]

    assert [run["run_id"] for run in runs] == ["run-2", "run-1"]
    assert runs[0]["started"] == "05-28 10:00:00"
    assert runs[0]["dry_run"] is True


def test_unknown_run_is_404_in_chinese(auth, fake_db):
    response = client_as("wangyu").get("/api/board", params={"run_id": "nope"})

    assert response.status_code == 404
    assert response.json()["detail"] == "找不到 DAG vh_cutover_528 的运行 nope。"


def test_dag_without_runs_is_404(auth, fake_db):
    response = client_as("wangyu").get("/api/board", params={"dag_id": "other_dag"})

    assert response.status_code == 404
    assert response.json()["detail"] == "DAG other_dag 不存在，或还没有任何运行。"


def test_anonymous_is_401_in_chinese(auth, fake_db):
    response = client_as(None).get("/api/board")

    assert response.status_code == 401
    assert response.json() == {"detail": "请先登录 Airflow。", "login": True}
    assert client_as(None).get("/api/runs").status_code == 401


def test_user_without_read_access_is_403(auth, fake_db):
    response = client_as("dingjian").get("/api/board")

    assert response.status_code == 403
    assert "没有查看" in response.json()["detail"]
    assert response.json()["login"] is False
