"""
Bad trigger inputs and where each one is rejected, shared by the unit and the end-to-end tests.

``layer`` names the check that rejects the value first:

- ``api``: Airflow validates the run's conf against the Params' JSON schema when the run is
  created, so the trigger form and ``POST /dagRuns`` answer 400 and no run exists;
- ``dag``: the schema accepts the value (a rule across fields, an unknown name, or a pattern
  quirk), the run starts and ``preflight.validate_params`` fails it before any write.

``source`` is how a person produces the value: ``ui`` for what the trigger form sends (a cleared
text field is ``""``, a cleared number field ``null``, a cleared multi-select ``[]``), ``rest``
for a hand-written conf.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

TEST_DOMAIN = "https://vh-test.ftt-rehearsal.example.com"


@dataclasses.dataclass(frozen=True)
class BadInput:
    """One bad trigger input, the field it is about and the check that rejects it."""

    case_id: str
    conf: dict[str, Any]
    field: str
    layer: Literal["api", "dag"]
    source: Literal["ui", "rest"] = "rest"


BAD_INPUTS = [
    BadInput("dry_run_string", {"dry_run": "true"}, "dry_run", "api"),
    BadInput("dry_run_integer", {"dry_run": 1}, "dry_run", "api"),
    BadInput("dry_run_null", {"dry_run": None}, "dry_run", "api"),
    BadInput("clients_empty", {"clients": []}, "clients", "api", "ui"),
    BadInput("clients_duplicate", {"clients": ["wandechu_app", "wandechu_app"]}, "clients", "api"),
    BadInput("clients_unknown", {"clients": ["wandechu_3_0"]}, "clients", "api"),
    BadInput("clients_display_name", {"clients": ["万得厨APP"]}, "clients", "api"),
    BadInput("clients_not_a_list", {"clients": "wandechu_app"}, "clients", "api"),
    BadInput("test_domain_empty", {"test_domain": ""}, "test_domain", "api", "ui"),
    BadInput("test_domain_http", {"test_domain": "http://vh-test.ftt-rehearsal.example.com"}, "test_domain", "api"),
    BadInput("prod_domain_http", {"prod_domain": "http://vh.ftt-rehearsal.example.com"}, "prod_domain", "api", "ui"),
    BadInput("prod_domain_no_scheme", {"prod_domain": "vh.ftt-rehearsal.example.com"}, "prod_domain", "api", "ui"),
    BadInput("prod_domain_with_path", {"prod_domain": "https://vh.ftt-rehearsal.example.com/sdk"}, "prod_domain", "api"),
    BadInput("prod_domain_equals_test", {"prod_domain": TEST_DOMAIN}, "prod_domain", "dag", "ui"),
    BadInput("prod_domain_equals_test_slash", {"prod_domain": f"{TEST_DOMAIN}/"}, "prod_domain", "dag"),
    BadInput("version_two_parts", {"gray_rule_min_version": "4.4"}, "gray_rule_min_version", "api", "ui"),
    BadInput("version_v_prefix", {"gray_rule_min_version": "v4.4.9"}, "gray_rule_min_version", "api", "ui"),
    BadInput("version_suffix", {"gray_rule_min_version": "4.4.9-beta"}, "gray_rule_min_version", "api", "ui"),
    BadInput("version_full_width", {"gray_rule_min_version": "４.４.９"}, "gray_rule_min_version", "api", "ui"),
    BadInput("version_empty", {"gray_rule_min_version": ""}, "gray_rule_min_version", "api", "ui"),
    BadInput("version_number", {"gray_rule_min_version": 4.49}, "gray_rule_min_version", "api"),
    BadInput("app_version_trailing_space", {"app_release_version": "4.5.10 "}, "app_release_version", "api", "ui"),
    BadInput("device_version_two_parts", {"device_release_version": "2.7"}, "device_release_version", "api"),
    BadInput("prompt_version_newline", {"prompt_below_version": "2.7.0\n"}, "prompt_below_version", "dag"),
    BadInput("backend_version_empty", {"backend_release_version": ""}, "backend_release_version", "api", "ui"),
    BadInput("backend_version_dashes", {"backend_release_version": "2024-05-28"}, "backend_release_version", "api"),
    BadInput("threshold_above_one", {"ops_notice_threshold": 1.5}, "ops_notice_threshold", "api", "ui"),
    BadInput("threshold_negative", {"ops_notice_threshold": -0.1}, "ops_notice_threshold", "api", "ui"),
    BadInput("threshold_string", {"ops_notice_threshold": "0.2"}, "ops_notice_threshold", "api"),
    BadInput("threshold_cleared", {"ops_notice_threshold": None}, "ops_notice_threshold", "api", "ui"),
    BadInput("day_unpadded", {"ftt_upgrade_day": "2024-5-28"}, "ftt_upgrade_day", "api", "ui"),
    BadInput("day_impossible", {"ftt_upgrade_day": "2024-02-30"}, "ftt_upgrade_day", "api", "ui"),
    BadInput("day_full_width", {"ftt_upgrade_day": "２０２４-05-28"}, "ftt_upgrade_day", "api", "ui"),
    BadInput("day_empty", {"ftt_upgrade_day": ""}, "ftt_upgrade_day", "api", "ui"),
    BadInput("window_zero", {"ftt_upgrade_window_hours": 0}, "ftt_upgrade_window_hours", "api", "ui"),
    BadInput("cap_below_window", {"ftt_upgrade_cap_hours": 4}, "ftt_upgrade_cap_hours", "dag", "ui"),
    BadInput("poll_zero", {"poll_interval_seconds": 0}, "poll_interval_seconds", "api", "ui"),
    BadInput("poll_string", {"poll_interval_seconds": "5"}, "poll_interval_seconds", "api"),
    BadInput("unknown_parameter", {"dryrun": True}, "dryrun", "dag"),
]
