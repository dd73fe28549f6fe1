"""Gray-rule stand-in: storing a rule, evaluating client versions, revisions and the write log."""

from __future__ import annotations

import pytest
from rehearsal_support import write_count

RULE_PATH = "/gray-rules/rules/wandechu_app/virtual_human"


def _evaluate(client, version):
    response = client.get(
        "/gray-rules/evaluate", params={"client": "wandechu_app", "module": "virtual_human", "version": version}
    )
    response.raise_for_status()
    return response.json()


def test_put_returns_stored_rule(client):
    response = client.put(RULE_PATH, json={"min_version": "4.4.9", "updated_by": "黄经纬", "change_key": "gray-1"})

    assert response.status_code == 200
    assert response.json() == {
        "client": "wandechu_app",
        "module": "virtual_human",
        "min_version": "4.4.9",
        "revision": 1,
        "updated_by": "黄经纬",
        "change_key": "gray-1",
    }
    assert client.get(RULE_PATH).json() == response.json()


@pytest.mark.parametrize(
    ("version", "visible"),
    [("V4.3.10", False), ("V4.4.8", False), ("V4.4.9", True), ("V4.4.10", True), ("V4.5.10", True), ("4.4.8", False)],
)
def test_evaluate_against_min_version(client, version, visible):
    client.put(RULE_PATH, json={"min_version": "4.4.9", "updated_by": "黄经纬", "change_key": "gray-1"})

    result = _evaluate(client, version)

    assert result["visible"] is visible
    assert result["min_version"] == "4.4.9"
    assert result["version"] == version


def test_evaluate_without_rule_is_visible(client):
    assert _evaluate(client, "V4.3.10")["visible"] is True


def test_evaluate_after_rule_removed(client):
    client.put(RULE_PATH, json={"min_version": "4.4.9"})
    client.put(RULE_PATH, json={"min_version": None})

    assert _evaluate(client, "V4.3.10")["visible"] is True
    assert client.get(RULE_PATH).json()["revision"] == 2


def test_revision_only_grows_on_change(client):
    first = client.put(RULE_PATH, json={"min_version": "4.4.9", "updated_by": "黄经纬", "change_key": "k1"}).json()
    repeat = client.put(RULE_PATH, json={"min_version": "4.4.9", "updated_by": "陈安棋", "change_key": "k2"}).json()
    changed = client.put(RULE_PATH, json={"min_version": "4.5.0", "updated_by": "陈安棋", "change_key": "k3"}).json()

    assert first["revision"] == 1
    assert repeat["revision"] == 1
    assert repeat["updated_by"] == "黄经纬"
    assert repeat["change_key"] == "k1"
    assert changed["revision"] == 2
    assert changed["change_key"] == "k3"


def test_every_put_is_logged(client):
    for _ in range(3):
        client.put(RULE_PATH, json={"min_version": "4.4.9", "change_key": "same"})
    client.get(RULE_PATH)

    writes = client.get("/control/writes", params={"system": "gray_rules"}).json()

    assert writes["count"] == 3
    assert writes["writes"][0]["method"] == "PUT"
    assert writes["writes"][0]["path"] == RULE_PATH
    assert writes["writes"][0]["body"] == {"min_version": "4.4.9", "change_key": "same"}
    assert writes["writes"][0]["system"] == "gray_rules"
    assert write_count(client, "remote_config") == 0


@pytest.mark.parametrize("bad_version", ["V4.4.9", "4.4", "4.4.9-beta", "", "04.4.9"])
def test_put_rejects_invalid_version(client, bad_version):
    response = client.put(RULE_PATH, json={"min_version": bad_version})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "min_version"]
    assert client.get(RULE_PATH).json()["revision"] == 0


def test_evaluate_rejects_invalid_version(client):
    response = client.get(
        "/gray-rules/evaluate", params={"client": "wandechu_app", "module": "virtual_human", "version": "latest"}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "version"]


def test_unknown_client_and_module(client):
    assert client.get("/gray-rules/rules/unknown_app/virtual_human").status_code == 404
    assert client.get("/gray-rules/rules/wandechu_app/unknown_module").status_code == 404
    assert client.put("/gray-rules/rules/unknown_app/virtual_human", json={"min_version": "4.4.9"}).status_code == 404


def test_put_rejects_unknown_field(client):
    response = client.put(RULE_PATH, json={"min_version": "4.4.9", "min_ver": "4.4.9"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "min_ver"]
