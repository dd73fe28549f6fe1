"""Automated business-flow checks against production, and the gray-rule matrix proof."""

from __future__ import annotations

import logging
from typing import Any

from vh_cutover.hooks.ftt import FttHook
from vh_cutover.hooks.gray_rules import GrayRuleHook
from vh_cutover.hooks.release_pipeline import ReleasePipelineHook
from vh_cutover.hooks.remote_config import RemoteConfigHook
from vh_cutover.params import RunSettings
from vh_cutover.plan.models import CutoverPlan, parse_version

log = logging.getLogger(__name__)


def evaluate_gray_matrix(plan: CutoverPlan, settings: RunSettings, hook: GrayRuleHook) -> dict[str, Any]:
    """
    Ask the gray-rule system, for each version of the plan's matrix, whether the module shows.

    The expectation follows the run's minimum version: below it hidden, at or above it visible.
    Returns ``{"passed": bool, "rows": [{"version", "expected_visible", "visible", "ok"}]}``.
    """
    rule = plan.gray_rule
    minimum = parse_version(settings.gray_rule_min_version)
    versions = sorted(set(rule.expect_hidden) | set(rule.expect_visible), key=parse_version)
    rows = []
    for version in versions:
        expected = parse_version(version) >= minimum
        visible = hook.evaluate(rule.client, rule.module, version)
        rows.append({"version": version, "expected_visible": expected, "visible": visible, "ok": visible == expected})
        log.info("gray_matrix version=%s expected_visible=%s visible=%s", version, expected, visible)
    return {"passed": all(row["ok"] for row in rows), "rows": rows}


def _check(name: str, ok: bool, detail: str) -> dict[str, Any]:
    log.info("verify check=%s ok=%s detail=%s", name, ok, detail)
    return {"name": name, "ok": ok, "detail": detail}


def check_business_flows(plan: CutoverPlan, settings: RunSettings, *, prod: FttHook, remote_config: RemoteConfigHook,
                         gray_rules: GrayRuleHook, release: ReleasePipelineHook) -> dict[str, Any]:
    """
    Check each flow the plan's testers checked by hand, reading production only.

    Returns ``{"passed": bool, "checks": [{"name", "ok", "detail"}], "dry_run": bool}``; never
    raises for a failed check, so the sign-off gate can show every result. A dry run skips the one
    probe that writes (the PTA sync) and so never passes.
    """
    checks = []
    for client in settings.clients:
        current = remote_config.get_module(client, "virtual_human").get("settings", {})
        domain = current.get("domain", "")
        on_prod = domain.rstrip("/") == settings.prod_domain and current.get("environment") == "prod"
        checks.append(_check(f"{client} 配置指向生产环境", on_prod, f"domain={domain} environment={current.get('environment')}"))
        handshake = prod.handshake(client, domain)
        checks.append(_check(f"{client} SDK 域名在生产环境可用", bool(handshake.get("ok")),
                             handshake.get("reason") or f"content_revision={handshake.get('content_revision')}"))

    if settings.dry_run:
        # The PTA probe is a POST that stores a sync on production, so a dry run reports it instead.
        checks.append(_check("PTA 同步（生产环境）", False, f"演练模式：未执行，实际运行时会以用户 {plan.pta.probe_user_id} 做一次同步"))
    else:
        sync = prod.sync_pta("wandechu_2_0", plan.pta.probe_user_id)
        checks.append(_check("PTA 同步（生产环境）", bool(sync.get("ok")),
                             sync.get("reason") or f"environment={sync.get('environment')}"))

    matrix = evaluate_gray_matrix(plan, settings, gray_rules)
    wrong = [row["version"] for row in matrix["rows"] if not row["ok"]]
    checks.append(_check("灰度规则按版本生效", matrix["passed"], f"不符合预期的版本：{wrong}" if wrong else "全部符合预期"))

    service = plan.backend_release.service
    deployed = release.get_service(service).get("deployed_version")
    checks.append(_check("后端接口已发布生产", deployed == settings.backend_release_version,
                         f"{service} deployed_version={deployed}"))
    return {"passed": all(check["ok"] for check in checks), "checks": checks, "dry_run": settings.dry_run}
