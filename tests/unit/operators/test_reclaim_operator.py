"""The FTT test environment reclaim and the guards that reject it, against the stand-ins."""

from __future__ import annotations

import pytest

from operator_support import audit_of, writes
from vh_cutover.exceptions import CutoverStepError
from vh_cutover.hooks.ftt import FttHook
from vh_cutover.operators import reclaim as reclaim_module
from vh_cutover.operators.reclaim import ReclaimTestEnvironmentOperator
from vh_cutover.rehearsal.catalog import FTT_DOMAINS

VERIFY = "verification.check_business_flows"
GATE = "reclaim.approve_reclaim"
PASSED = {(VERIFY, "return_value"): {"passed": True, "checks": []}}
CLIENTS = ("wandechu_app", "wandechu_2_0", "shadow_world")


def reclaim_operator() -> ReclaimTestEnvironmentOperator:
    return ReclaimTestEnvironmentOperator(task_id="reclaim_test_environment", verification_task_id=VERIFY,
                                          approved_by_task_id=GATE)


def point_clients(control, environment: str, clients=CLIENTS) -> None:
    """Point clients' virtual-human module at an environment through the stand-ins, as an owner would."""
    for client in clients:
        control.put(
            f"/remote-config/clients/{client}/modules/virtual_human",
            headers={"Authorization": "Bearer rehearsal-operator-token"},
            json={"settings": {"domain": FTT_DOMAINS[environment], "environment": environment,
                               "app_id": f"{client}-vh"},
                  "updated_by": "test", "change_key": f"setup-{client}"},
        ).raise_for_status()


def test_reclaim_when_all_moved(rehearsal, make_context):
    point_clients(rehearsal, "prod")
    setup_writes = len(writes(rehearsal))
    operator = reclaim_operator()
    context = make_context(operator, xcoms={**PASSED, (GATE, "return_value"): {
        "responded_by_user": {"id": "huangjingwei", "name": "黄经纬"}}})

    record = operator.execute(context)

    assert record["outcome"] == "changed"
    assert record["before"] is False
    assert record["after"] is True
    assert record["actor"] == "黄经纬（huangjingwei）"
    assert rehearsal.get("/control/state").json()["ftt"]["test"]["reclaimed"] is True
    assert len(writes(rehearsal, "ftt_test")) == 1
    assert len(writes(rehearsal)) == setup_writes + 1


def test_reclaim_retry_is_applied_by_earlier_try(rehearsal, make_context):
    point_clients(rehearsal, "prod")
    operator = reclaim_operator()
    operator.execute(make_context(operator, xcoms=PASSED))

    record = operator.execute(make_context(operator, try_number=2, xcoms=PASSED))

    assert record["outcome"] == "applied_by_earlier_try"
    assert len(writes(rehearsal, "ftt_test")) == 1


def test_reclaim_done_by_someone_else_is_no_change(rehearsal, make_context):
    point_clients(rehearsal, "prod")
    FttHook(ftt_conn_id="vh_ftt_test").reclaim()
    operator = reclaim_operator()

    record = operator.execute(make_context(operator, xcoms=PASSED))

    assert record["outcome"] == "no_change"
    assert len(writes(rehearsal, "ftt_test")) == 1


def test_reclaim_rejected_client_on_test(rehearsal, make_context):
    point_clients(rehearsal, "prod", clients=("wandechu_app", "shadow_world"))
    operator = reclaim_operator()
    context = make_context(operator, xcoms=PASSED)

    with pytest.raises(CutoverStepError, match="wandechu_2_0"):
        operator.execute(context)

    assert writes(rehearsal, "ftt_test") == []
    assert audit_of(context) is None
    assert rehearsal.get("/control/state").json()["ftt"]["test"]["reclaimed"] is False


def test_reclaim_rejected_with_traffic(rehearsal, make_context, monkeypatch):
    """Configuration already moved but SDKs still calling test: the traffic guard alone rejects."""
    # The stand-in derives traffic from the configuration, so the configuration read is replaced
    # to model clients whose SDKs have not picked up the new domain yet.
    monkeypatch.setattr(reclaim_module, "clients_on_environment", lambda hook, clients, environment: [])
    operator = reclaim_operator()

    with pytest.raises(CutoverStepError, match="流量|请求") as raised:
        operator.execute(make_context(operator, xcoms=PASSED))

    assert "wandechu_app" in str(raised.value)
    assert writes(rehearsal, "ftt_test") == []


@pytest.mark.parametrize("verification", [None, {"passed": False, "checks": []}, "passed"])
def test_reclaim_rejected_verification_not_passed(rehearsal, make_context, verification):
    point_clients(rehearsal, "prod")
    operator = reclaim_operator()
    xcoms = {(VERIFY, "return_value"): verification} if verification is not None else {}

    with pytest.raises(CutoverStepError, match="验证未通过"):
        operator.execute(make_context(operator, xcoms=xcoms))

    assert writes(rehearsal, "ftt_test") == []


def test_reclaim_dry_run_writes_nothing(rehearsal, make_context):
    operator = reclaim_operator()
    point_clients(rehearsal, "prod")
    record = operator.execute(make_context(operator, params={"dry_run": True}, xcoms=PASSED))
    assert record["outcome"] == "dry_run"
    assert writes(rehearsal, "ftt_test") == []
