"""The plan loader: it accepts the committed plan and rejects bad files with the field in the message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from vh_cutover.exceptions import PlanConfigError
from vh_cutover.plan import default_plan_path, load_plan

COMMITTED_PLAN = Path(__file__).resolve().parents[3] / "config" / "cutover-plan.yaml"


@pytest.fixture
def plan_document() -> dict[str, Any]:
    return yaml.safe_load(COMMITTED_PLAN.read_text(encoding="utf-8"))


@pytest.fixture
def write_plan(tmp_path: Path) -> Callable[[Any], Path]:
    def _write(document: Any) -> Path:
        path = tmp_path / "plan.yaml"
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        return path

    return _write


def _rejection(write_plan: Callable[[Any], Path], document: Any) -> str:
    with pytest.raises(PlanConfigError) as raised:
        load_plan(write_plan(document))
    return str(raised.value)


def test_committed_plan_accepted():
    plan = load_plan(COMMITTED_PLAN)

    assert plan.coordinator == "wangyu"
    assert plan.people["wangyu"] == "王宇"
    assert plan.timezone == "Asia/Shanghai"
    assert plan.gray_rule.min_version == "4.4.9"
    assert plan.dates.app_release == dt.date(2024, 5, 28)
    assert plan.dates.device_release == dt.date(2024, 5, 30)
    assert plan.ftt.upgrade_window_hours == 8
    assert set(plan.clients) == {"wandechu_app", "wandechu_2_0", "shadow_world"}
    assert plan.steps["verify"].owners == ["chenanqi", "luyiye"]


def test_default_path_follows_environment(monkeypatch, plan_document, write_plan):
    plan_document["title"] = "下个月的切换"
    monkeypatch.setenv("VH_CUTOVER_PLAN", str(write_plan(plan_document)))

    assert load_plan().title == "下个月的切换"


def test_default_path_without_environment(monkeypatch):
    monkeypatch.delenv("VH_CUTOVER_PLAN", raising=False)

    assert default_plan_path() == COMMITTED_PLAN


@pytest.mark.parametrize("version", ["V4.4.9", "4.4", "4.4.9-beta", "４.４.９", "4.4.9 "])
def test_bad_version_form_rejected(plan_document, write_plan, version):
    plan_document["gray_rule"]["min_version"] = version

    message = _rejection(write_plan, plan_document)

    assert "gray_rule.min_version" in message
    assert repr(version) in message


def test_bad_client_version_rejected(plan_document, write_plan):
    plan_document["clients"]["wandechu_2_0"]["release_version"] = "2.7"

    message = _rejection(write_plan, plan_document)

    assert "clients.wandechu_2_0.release_version" in message


def test_unknown_owner_login_rejected(plan_document, write_plan):
    plan_document["steps"]["verify"]["owners"] = ["chenanqi", "zhangsan"]

    message = _rejection(write_plan, plan_document)

    assert "steps.verify.owners" in message
    assert "zhangsan" in message


def test_unknown_coordinator_rejected(plan_document, write_plan):
    plan_document["coordinator"] = "zhangsan"

    message = _rejection(write_plan, plan_document)

    assert "coordinator" in message
    assert "zhangsan" in message


def test_missing_step_rejected(plan_document, write_plan):
    del plan_document["steps"]["reclaim"]

    message = _rejection(write_plan, plan_document)

    assert "steps" in message
    assert "missing ['reclaim']" in message


def test_unknown_step_rejected(plan_document, write_plan):
    plan_document["steps"]["migrate_data"] = {"title": "迁移历史数据", "owners": ["wangyu"]}

    message = _rejection(write_plan, plan_document)

    assert "unknown ['migrate_data']" in message


def test_step_without_owners_rejected(plan_document, write_plan):
    plan_document["steps"]["summary"]["owners"] = []

    message = _rejection(write_plan, plan_document)

    assert "steps.summary.owners" in message


@pytest.mark.parametrize("prod", ["https://vh-test.ftt-rehearsal.example.com", "https://vh-test.ftt-rehearsal.example.com/"])
def test_equal_domains_rejected(plan_document, write_plan, prod):
    plan_document["ftt"]["domains"]["prod"] = prod

    message = _rejection(write_plan, plan_document)

    assert "ftt.domains" in message
    assert "must differ" in message


def test_plain_http_domain_rejected(plan_document, write_plan):
    plan_document["ftt"]["domains"]["prod"] = "http://vh.ftt-rehearsal.example.com"

    message = _rejection(write_plan, plan_document)

    assert "ftt.domains.prod" in message


def test_cap_below_window_rejected(plan_document, write_plan):
    plan_document["ftt"]["upgrade_cap_hours"] = 6

    message = _rejection(write_plan, plan_document)

    assert "ftt.upgrade_cap_hours (6.0)" in message
    assert "ftt.upgrade_window_hours (8.0)" in message


def test_cap_equal_to_window_accepted(plan_document, write_plan):
    plan_document["ftt"]["upgrade_cap_hours"] = 8

    assert load_plan(write_plan(plan_document)).ftt.upgrade_cap_hours == 8


@pytest.mark.parametrize(
    ("hidden", "visible", "wrong"),
    [
        (["4.3.10", "4.4.9"], ["4.4.10"], "hidden but not below it ['4.4.9']"),
        (["4.3.10"], ["4.4.8", "4.4.10"], "visible but below it ['4.4.8']"),
    ],
)
def test_matrix_contradicting_min_version_rejected(plan_document, write_plan, hidden, visible, wrong):
    plan_document["gray_rule"]["expect_hidden"] = hidden
    plan_document["gray_rule"]["expect_visible"] = visible

    message = _rejection(write_plan, plan_document)

    assert "gray_rule" in message
    assert "min_version 4.4.9" in message
    assert wrong in message


def test_unknown_client_rejected(plan_document, write_plan):
    plan_document["clients"]["wandechu_3_0"] = {"name": "万得厨3.0", "app_id": "wandechu_3_0-vh"}

    message = _rejection(write_plan, plan_document)

    assert "unknown clients ['wandechu_3_0']" in message


def test_prompt_client_outside_clients_rejected(plan_document, write_plan):
    del plan_document["clients"]["shadow_world"]
    plan_document["device_prompt"]["client"] = "shadow_world"

    message = _rejection(write_plan, plan_document)

    assert "device_prompt.client 'shadow_world'" in message


def test_unknown_field_rejected(plan_document, write_plan):
    plan_document["fleet"]["threshold"] = 0.2

    message = _rejection(write_plan, plan_document)

    assert "fleet.threshold" in message


def test_threshold_above_one_rejected(plan_document, write_plan):
    plan_document["fleet"]["ops_notice_threshold"] = 20

    message = _rejection(write_plan, plan_document)

    assert "fleet.ops_notice_threshold" in message


def test_missing_section_rejected(plan_document, write_plan):
    del plan_document["backend_release"]

    message = _rejection(write_plan, plan_document)

    assert "backend_release" in message


def test_missing_file_rejected(tmp_path):
    missing = tmp_path / "absent.yaml"

    with pytest.raises(PlanConfigError, match="plan file not found") as raised:
        load_plan(missing)

    assert str(missing) in str(raised.value)


def test_invalid_yaml_rejected(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text("steps: [unclosed\n", encoding="utf-8")

    with pytest.raises(PlanConfigError, match="not valid YAML"):
        load_plan(path)


def test_non_mapping_rejected(write_plan):
    message = _rejection(write_plan, ["cutover_id", "vh-2024-05"])

    assert "must contain a mapping, got list" in message

