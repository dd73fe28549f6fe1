"""Unit tests of GrayRuleHook and RemoteConfigHook against a faked transport."""

from __future__ import annotations

import pytest

from vh_cutover.hooks.gray_rules import GrayRuleHook
from vh_cutover.hooks.remote_config import RemoteConfigHook

GRAY_URL = "http://127.0.0.1:9/gray-rules"
CONFIG_URL = "http://127.0.0.1:9/remote-config"
RULE = {
    "client": "wandechu_app",
    "module": "virtual_human",
    "min_version": "4.4.9",
    "revision": 2,
    "updated_by": "dag",
    "change_key": "k1",
}


@pytest.fixture
def gray(set_connection) -> GrayRuleHook:
    set_connection("vh_gray_rules", GRAY_URL, "tok-gray-rules")
    return GrayRuleHook()


@pytest.fixture
def config(set_connection) -> RemoteConfigHook:
    set_connection("vh_remote_config", CONFIG_URL, "tok-remote-config")
    return RemoteConfigHook()


def test_gray_rule_defaults():
    assert GrayRuleHook().gray_rule_conn_id == "vh_gray_rules"
    assert GrayRuleHook.conn_name_attr == "gray_rule_conn_id"
    assert GrayRuleHook.system == "gray_rules"


def test_get_rule(gray, requests_mock):
    requests_mock.get(f"{GRAY_URL}/rules/wandechu_app/virtual_human", json=RULE)
    assert gray.get_rule("wandechu_app", "virtual_human") == RULE


def test_rule_path_segments_encoded(gray, requests_mock):
    requests_mock.get(f"{GRAY_URL}/rules/a%2F..%2Fb/virtual_human", json={**RULE, "client": "a/../b"})
    gray.get_rule("a/../b", "virtual_human")
    assert requests_mock.called


def test_put_rule_body(gray, requests_mock):
    requests_mock.put(f"{GRAY_URL}/rules/wandechu_app/virtual_human", json=RULE)
    gray.put_rule("wandechu_app", "virtual_human", "4.4.9", updated_by="dag", change_key="k1")
    assert requests_mock.last_request.json() == {"min_version": "4.4.9", "updated_by": "dag", "change_key": "k1"}


def test_put_rule_clears_with_none(gray, requests_mock):
    requests_mock.put(f"{GRAY_URL}/rules/wandechu_app/virtual_human", json={**RULE, "min_version": None})
    assert gray.put_rule("wandechu_app", "virtual_human", None, updated_by="dag", change_key="k2")["min_version"] is None
    assert requests_mock.last_request.json()["min_version"] is None


def test_put_rule_requires_change_key(gray):
    with pytest.raises(ValueError, match="change_key"):
        gray.put_rule("wandechu_app", "virtual_human", "4.4.9", updated_by="dag", change_key="")


def test_evaluate(gray, requests_mock):
    requests_mock.get(f"{GRAY_URL}/evaluate", json={"visible": False, "min_version": "4.4.9"})
    assert gray.evaluate("wandechu_app", "virtual_human", "4.3.10") is False
    assert requests_mock.last_request.qs == {
        "client": ["wandechu_app"],
        "module": ["virtual_human"],
        "version": ["4.3.10"],
    }


def test_remote_config_defaults():
    assert RemoteConfigHook().remote_config_conn_id == "vh_remote_config"
    assert RemoteConfigHook.conn_name_attr == "remote_config_conn_id"


def test_get_module(config, requests_mock):
    document = {"client": "wandechu_app", "module": "virtual_human", "settings": {"environment": "test"}, "revision": 1}
    requests_mock.get(f"{CONFIG_URL}/clients/wandechu_app/modules/virtual_human", json=document)
    assert config.get_module("wandechu_app", "virtual_human") == document


def test_put_module_body(config, requests_mock):
    settings = {"domain": "https://vh-prod.example", "environment": "prod", "app_id": "a1"}
    requests_mock.put(
        f"{CONFIG_URL}/clients/wandechu_2_0/modules/virtual_human", json={"settings": settings, "revision": 2}
    )
    stored = config.put_module("wandechu_2_0", "virtual_human", settings, updated_by="dag", change_key="k")
    assert stored["settings"] == settings
    assert requests_mock.last_request.json() == {"settings": settings, "updated_by": "dag", "change_key": "k"}


def test_put_module_rejects_non_dict(config):
    with pytest.raises(ValueError, match="settings"):
        config.put_module("wandechu_app", "virtual_human", [("a", 1)], updated_by="dag", change_key="k")
