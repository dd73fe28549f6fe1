"""Read-compare-write-readback-audit operators driven against the stand-ins served on loopback."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowSkipException

from operator_support import audit_of, writes
from vh_cutover.exceptions import CutoverHttpError, CutoverParamsError, CutoverStepError
from vh_cutover.hooks.ftt import FttHook
from vh_cutover.hooks.gray_rules import GrayRuleHook
from vh_cutover.operators.change import SetGrayRuleOperator, SetUpgradePromptOperator, SwitchClientEnvironmentOperator

PROD = "https://vh.ftt-rehearsal.example.com"
GATE = "ftt_upgrade.confirm_ftt_upgrade"
GATE_RESPONSE = {"chosen_options": ["确认升级成功"], "responded_by_user": {"id": "luyiye", "name": "卢一烨"}}


def gray_rule_operator() -> SetGrayRuleOperator:
    return SetGrayRuleOperator(task_id="apply_gray_rule", client="wandechu_app", module="virtual_human")


def switch_operator(client: str = "wandechu_app") -> SwitchClientEnvironmentOperator:
    return SwitchClientEnvironmentOperator(task_id="switch_app_domain", client=client, approved_by_task_id=GATE)


def test_gray_rule_changed_once(rehearsal, make_context):
    operator = gray_rule_operator()
    context = make_context(operator)

    record = operator.execute(context)

    assert record["outcome"] == "changed"
    assert record["before"] is None
    assert record["after"] == "4.4.9"
    assert record["actor"] == "DAG"
    assert audit_of(context) == [record]
    gray_writes = writes(rehearsal, "gray_rules")
    assert len(gray_writes) == 1
    assert gray_writes[0]["method"] == "PUT"
    assert gray_writes[0]["body"]["change_key"] == f"vh_cutover_528/{context['ti'].run_id}/apply_gray_rule"


def test_gray_rule_retry_writes_nothing(rehearsal, make_context):
    operator = gray_rule_operator()
    operator.execute(make_context(operator))

    retry = make_context(operator, try_number=2)
    record = operator.execute(retry)

    assert record["outcome"] == "applied_by_earlier_try"
    assert record["try_number"] == 2
    assert record["after"] == "4.4.9"
    assert len(writes(rehearsal, "gray_rules")) == 1


def test_gray_rule_crash_after_write(rehearsal, make_context):
    """A try that wrote and died before its audit is recognised by the change key on the next try."""
    operator = gray_rule_operator()
    context = make_context(operator)
    GrayRuleHook().put_rule("wandechu_app", "virtual_human", "4.4.9", updated_by="DAG",
                            change_key=f"vh_cutover_528/{context['ti'].run_id}/apply_gray_rule")

    record = operator.execute(make_context(operator, try_number=2))

    assert record["outcome"] == "applied_by_earlier_try"
    assert len(writes(rehearsal, "gray_rules")) == 1


def test_gray_rule_set_before_run(rehearsal, make_context):
    GrayRuleHook().put_rule("wandechu_app", "virtual_human", "4.4.9", updated_by="黄经纬", change_key="by-hand")
    operator = gray_rule_operator()

    record = operator.execute(make_context(operator))

    assert record["outcome"] == "no_change"
    assert record["before"] == "4.4.9"
    assert len(writes(rehearsal, "gray_rules")) == 1


def test_gray_rule_dry_run_writes_nothing(rehearsal, make_context):
    operator = gray_rule_operator()

    record = operator.execute(make_context(operator, params={"dry_run": True}))

    assert record["outcome"] == "dry_run"
    assert record["before"] is None
    assert record["after"] == "4.4.9"
    assert writes(rehearsal) == []


def test_gray_rule_invalid_param_before_read(rehearsal, make_context):
    operator = gray_rule_operator()

    with pytest.raises(CutoverParamsError, match="v4.4.9"):
        operator.execute(make_context(operator, params={"gray_rule_min_version": "v4.4.9"}))
    assert writes(rehearsal) == []


def test_gray_rule_write_fault_fails_task(rehearsal, make_context):
    rehearsal.put("/control/faults", json=[{"system": "gray_rules", "method": "PUT", "status": 503}]).raise_for_status()
    operator = gray_rule_operator()

    with pytest.raises(CutoverStepError, match="请求失败") as raised:
        operator.execute(make_context(operator))

    assert "HTTP 503" in str(raised.value)
    assert isinstance(raised.value.__cause__, CutoverHttpError)
    assert raised.value.__cause__.status == 503
    assert writes(rehearsal, "gray_rules") == []


def test_gray_rule_malformed_read_fails(rehearsal, make_context):
    rehearsal.put("/control/faults", json=[{"system": "gray_rules", "method": "GET", "malformed": True}]).raise_for_status()
    operator = gray_rule_operator()

    with pytest.raises(CutoverStepError, match="无法解析"):
        operator.execute(make_context(operator))
    assert writes(rehearsal) == []


def test_switch_records_gate_responder(rehearsal, make_context):
    operator = switch_operator()
    context = make_context(operator, xcoms={(GATE, "return_value"): GATE_RESPONSE})

    record = operator.execute(context)

    assert record["outcome"] == "changed"
    assert record["actor"] == "卢一烨（luyiye）"
    assert record["before"]["environment"] == "test"
    assert record["after"] == {"domain": PROD, "environment": "prod", "app_id": "wandechu_app-vh"}
    document = rehearsal.get("/control/state").json()["remote_config"]
    stored = next(row for row in document if row["client"] == "wandechu_app" and row["module"] == "virtual_human")
    assert stored["settings"]["domain"] == PROD
    assert stored["updated_by"] == "卢一烨（luyiye）"


def test_switch_unselected_client_skips(rehearsal, make_context):
    operator = switch_operator("shadow_world")

    with pytest.raises(AirflowSkipException, match="shadow_world"):
        operator.execute(make_context(operator, params={"clients": ["wandechu_app"]}))
    assert writes(rehearsal) == []


def test_switch_readback_mismatch_fails(rehearsal, make_context, monkeypatch):
    """A system that accepts a write but keeps the old value fails the step with both values."""
    operator = switch_operator()
    monkeypatch.setattr(operator.hook, "put_module", lambda *args, **kwargs: {})

    context = make_context(operator)

    with pytest.raises(CutoverStepError, match="读回") as raised:
        operator.execute(context)

    assert PROD in str(raised.value)
    assert audit_of(context) is None


def test_rollback_refused_after_reclaim(rehearsal, make_context):
    cutover = switch_operator()
    cutover.execute(make_context(cutover))
    FttHook(ftt_conn_id="vh_ftt_test").reclaim()
    rollback = SwitchClientEnvironmentOperator(task_id="rollback_app_domain", client="wandechu_app", environment="test")
    context = make_context(rollback)

    with pytest.raises(CutoverStepError, match="已被回收"):
        rollback.execute(context)

    assert audit_of(context) is None
    assert [write["system"] for write in writes(rehearsal)] == ["remote_config", "ftt_test"]


def test_rollback_dry_run_notes_the_refusal(rehearsal, make_context):
    FttHook(ftt_conn_id="vh_ftt_test").reclaim()
    rehearsal.put(
        "/remote-config/clients/wandechu_app/modules/virtual_human",
        headers={"Authorization": "Bearer rehearsal-operator-token"},
        json={"settings": {"domain": PROD, "environment": "prod", "app_id": "wandechu_app-vh"},
              "updated_by": "test", "change_key": "setup"},
    ).raise_for_status()
    rollback = SwitchClientEnvironmentOperator(task_id="rollback_app_domain", client="wandechu_app", environment="test")

    record = rollback.execute(make_context(rollback, params={"dry_run": True}))

    assert record["outcome"] == "dry_run"
    assert "已被回收" in record["note"]


def test_upgrade_prompt_changed_then_kept(rehearsal, make_context):
    operator = SetUpgradePromptOperator(task_id="set_upgrade_prompt", client="wandechu_2_0")

    first = operator.execute(make_context(operator))
    second = operator.execute(make_context(operator, try_number=2))

    assert first["outcome"] == "changed"
    assert first["before"] == {}
    assert first["after"]["below_version"] == "2.7.0"
    assert "PTA" in first["after"]["message"]
    assert second["outcome"] == "applied_by_earlier_try"
    assert len(writes(rehearsal, "remote_config")) == 1
