"""The Airflow plugin exposes the stand-ins only when VH_REHEARSAL is true."""

from __future__ import annotations

import importlib
import sys

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rehearsal_support import AUTH_HEADERS

from vh_cutover.rehearsal import rehearsal_enabled

PLUGIN_MODULE = "vh_cutover_rehearsal_plugin"


def _fresh_plugin_module():
    sys.modules.pop(PLUGIN_MODULE, None)
    return importlib.import_module(PLUGIN_MODULE)


@pytest.fixture(autouse=True)
def _forget_plugin_module():
    yield
    sys.modules.pop(PLUGIN_MODULE, None)


@pytest.mark.parametrize(("value", "enabled"), [("true", True), ("TRUE", True), ("True", True), ("1", False), ("", False)])
def test_rehearsal_enabled_values(monkeypatch, value, enabled):
    monkeypatch.setenv("VH_REHEARSAL", value)

    assert rehearsal_enabled() is enabled


def test_plugin_without_rehearsal_has_no_app(tmp_path, monkeypatch):
    monkeypatch.setenv("VH_REHEARSAL_DB", str(tmp_path / "never.sqlite3"))

    module = _fresh_plugin_module()

    assert module.RehearsalStandInsPlugin.name == "vh_cutover_rehearsal"
    assert module.RehearsalStandInsPlugin.fastapi_apps == []
    assert module.RehearsalStandInsPlugin().fastapi_apps == []
    assert not (tmp_path / "never.sqlite3").exists()


def test_plugin_with_rehearsal_mounts_app(tmp_path, monkeypatch):
    db_file = tmp_path / "plugin.sqlite3"
    monkeypatch.setenv("VH_REHEARSAL", "true")
    monkeypatch.setenv("VH_REHEARSAL_DB", str(db_file))

    module = _fresh_plugin_module()
    [entry] = module.RehearsalStandInsPlugin.fastapi_apps

    assert entry["url_prefix"] == "/rehearsal"
    assert entry["name"]
    assert isinstance(entry["app"], FastAPI)
    assert not db_file.exists()

    host = FastAPI()
    host.mount(entry["url_prefix"], entry["app"])
    with TestClient(host, headers=AUTH_HEADERS) as http:
        http.post("/rehearsal/ftt/test/reclaim")
        writes = http.get("/rehearsal/control/writes").json()

    assert db_file.exists()
    assert writes["writes"][0]["path"] == "/ftt/test/reclaim"


def test_plugin_is_valid_airflow_plugin(monkeypatch):
    from airflow.plugins_manager import is_valid_plugin

    module = _fresh_plugin_module()

    assert is_valid_plugin(module.RehearsalStandInsPlugin)
