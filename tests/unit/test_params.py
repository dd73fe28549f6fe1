"""
Trigger parameters: every bad input of the table is rejected, with a Chinese message naming the field.

Two layers are checked against the same table, both without a running Airflow. The first is the
Params' JSON schema as Airflow's API server applies it when a run is created, on params serialized
and deserialized the way the DAG processor stores them. The second is ``resolve_run_settings``,
which ``preflight.validate_params`` runs before any write.
"""

from __future__ import annotations

import pytest
from airflow.exceptions import ParamValidationError
from airflow.sdk.definitions.param import ParamsDict
from airflow.serialization.serialized_objects import BaseSerialization

from bad_inputs import BAD_INPUTS, TEST_DOMAIN, BadInput
from vh_cutover.exceptions import CutoverParamsError
from vh_cutover.params import EXPECTED_FORMS, build_params, invalid_message, resolve_run_settings
from vh_cutover.runtime import current_plan

PLAN = current_plan()
TITLES = {name: param.schema["title"] for name, param in build_params(PLAN).items()}


def _server_params():
    """Return the DAG's params as the API server stores them after the DAG was serialized."""
    encoded = BaseSerialization._serialize_params_dict(ParamsDict(build_params(PLAN)))
    return BaseSerialization._deserialize_params_dict(encoded)


def _validate_like_api(conf: dict) -> dict:
    """Validate a run's conf the way creating a run through the API does."""
    return _server_params().deep_merge(conf).validate()


def test_table_has_enough_cases():
    assert len(BAD_INPUTS) >= 25
    assert {case.layer for case in BAD_INPUTS} == {"api", "dag"}
    assert {case.source for case in BAD_INPUTS} == {"ui", "rest"}


def test_defaults_pass_both_layers():
    _validate_like_api({})
    settings = resolve_run_settings(PLAN, {})

    assert settings.dry_run is False
    assert settings.clients == tuple(PLAN.clients)
    assert settings.prod_domain != settings.test_domain


def test_good_variations_pass_both_layers():
    conf = {
        "dry_run": True,
        "clients": ["wandechu_2_0"],
        "prod_domain": "https://vh.ftt-rehearsal.example.com/",
        "gray_rule_min_version": "4.4.10",
        "ops_notice_threshold": 1,
        "ftt_upgrade_day": "2024-05-29",
        "ftt_upgrade_cap_hours": 8,
        "poll_interval_seconds": 2.5,
    }
    _validate_like_api(conf)
    settings = resolve_run_settings(PLAN, conf)

    assert settings.prod_domain == "https://vh.ftt-rehearsal.example.com"
    assert settings.ops_notice_threshold == 1.0
    assert settings.poll_interval_seconds == 2.5


@pytest.mark.parametrize("case", BAD_INPUTS, ids=lambda case: case.case_id)
def test_bad_input_rejected_in_dag(case: BadInput):
    with pytest.raises(CutoverParamsError) as raised:
        resolve_run_settings(PLAN, case.conf)

    message = str(raised.value)
    if case.field in EXPECTED_FORMS:
        assert f"参数 {case.field}（{TITLES[case.field]}）" in message
        assert EXPECTED_FORMS[case.field] in message
    else:
        assert f"未知参数 ['{case.field}']" in message
        assert "请检查拼写" in message


@pytest.mark.parametrize("case", [c for c in BAD_INPUTS if c.layer == "api"], ids=lambda case: case.case_id)
def test_bad_input_rejected_by_schema(case: BadInput):
    with pytest.raises(ParamValidationError) as raised:
        _validate_like_api(case.conf)

    message = str(raised.value)
    assert message.startswith(f"Invalid input for param {case.field}:")
    assert invalid_message(case.field, TITLES[case.field]) in message


@pytest.mark.parametrize("case", [c for c in BAD_INPUTS if c.layer == "dag"], ids=lambda case: case.case_id)
def test_bad_input_passes_schema(case: BadInput):
    # These reach the run; validate_params must stop them, which the test above proves.
    _validate_like_api(case.conf)


def test_schema_messages_are_chinese_and_name_the_field():
    for name, param in build_params(PLAN).items():
        message = param.schema["errorMessage"]

        assert message == invalid_message(name, TITLES[name])
        assert f"参数{name}（{TITLES[name]}）无效" in message
        assert " " not in message


def test_client_items_carry_the_message():
    clients = build_params(PLAN)["clients"].schema

    assert clients["items"]["enum"] == list(PLAN.clients)
    assert clients["items"]["errorMessage"] == clients["errorMessage"]


def test_prod_domain_message_names_test_domain():
    with pytest.raises(CutoverParamsError, match=TEST_DOMAIN):
        resolve_run_settings(PLAN, {"prod_domain": TEST_DOMAIN})
