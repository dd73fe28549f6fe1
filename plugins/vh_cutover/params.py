"""
Trigger-form parameters of the cutover DAG and their validation.

The same rules run twice: as JSON schema in the trigger form, and inside the DAG
(:func:`resolve_run_settings`) for runs triggered through the REST API, before any write.
Messages are in Chinese because the people who trigger the run read them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from airflow.sdk import Param

from vh_cutover.exceptions import CutoverParamsError
from vh_cutover.plan.models import CLIENT_IDS, HTTPS_URL_PATTERN, VERSION_PATTERN, CutoverPlan

VERSION_FORM = "x.y.z 形式的版本号（半角数字，不带 v 前缀或后缀），例如 4.4.9"
DOMAIN_FORM = "以 https:// 开头的域名，例如 https://vh.example.com"
SECTION_SWITCH = "切换目标"
SECTION_VERSIONS = "版本"
SECTION_TIMING = "时间窗口"
SECTION_SAFETY = "安全"


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """Validated settings of one run: the plan's values, overridden by the trigger form."""

    dry_run: bool
    clients: tuple[str, ...]
    gray_rule_min_version: str
    app_release_version: str
    device_release_version: str
    prompt_below_version: str
    backend_release_version: str
    test_domain: str
    prod_domain: str
    ops_notice_threshold: float
    ftt_upgrade_window_hours: float
    ftt_upgrade_cap_hours: float
    poll_interval_seconds: float | None
    ftt_upgrade_day: dt.date

    def poll_interval(self, plan_default: float) -> float:
        """Return the poll interval of a wait: the run's override, else the plan's value."""
        return self.poll_interval_seconds or plan_default


def build_params(plan: CutoverPlan) -> dict[str, Param]:
    """Build the trigger form from the plan's defaults."""
    client_labels = {client_id: client.name for client_id, client in plan.clients.items()}
    app = plan.clients["wandechu_app"]
    device = plan.clients["wandechu_2_0"]
    return {
        "dry_run": Param(
            False,
            type="boolean",
            title="演练模式（只读）",
            description="开启后每一步只读取各系统并报告将要做的修改，不写入任何外部系统；人工确认节点照常等待。",
            section=SECTION_SAFETY,
        ),
        "clients": Param(
            list(plan.clients),
            type="array",
            items={"type": "string", "enum": list(CLIENT_IDS)},
            uniqueItems=True,
            minItems=1,
            title="切换的客户端",
            description="切换到生产环境的客户端，只能从计划中的客户端里选择。",
            values_display=client_labels,
            section=SECTION_SWITCH,
        ),
        "test_domain": Param(
            plan.ftt.domains.test,
            type="string",
            pattern=HTTPS_URL_PATTERN,
            title="FTT测试环境域名",
            description=f"客户端当前使用的测试环境域名，应为{DOMAIN_FORM}。",
            section=SECTION_SWITCH,
        ),
        "prod_domain": Param(
            plan.ftt.domains.prod,
            type="string",
            pattern=HTTPS_URL_PATTERN,
            title="FTT生产环境域名",
            description=f"客户端切换后使用的生产环境域名，应为{DOMAIN_FORM}，且不能与测试环境域名相同。",
            section=SECTION_SWITCH,
        ),
        "gray_rule_min_version": Param(
            plan.gray_rule.min_version,
            type="string",
            pattern=VERSION_PATTERN,
            title="万得厨APP灰度最低版本",
            description=f"低于此版本的万得厨APP不显示虚拟人模块。格式：{VERSION_FORM}。",
            section=SECTION_VERSIONS,
        ),
        "app_release_version": Param(
            app.release_version,
            type="string",
            pattern=VERSION_PATTERN,
            title="万得厨APP发布版本",
            description=f"本次随切换发布的万得厨APP版本。格式：{VERSION_FORM}。",
            section=SECTION_VERSIONS,
        ),
        "device_release_version": Param(
            device.release_version,
            type="string",
            pattern=VERSION_PATTERN,
            title="万得厨2.0发布版本",
            description=f"等待其推送给用户后再设置升级提示的设备版本。格式：{VERSION_FORM}。",
            section=SECTION_VERSIONS,
        ),
        "prompt_below_version": Param(
            plan.device_prompt.below_version,
            type="string",
            pattern=VERSION_PATTERN,
            title="升级提示版本阈值",
            description=f"低于此版本的万得厨2.0会看到升级提示。格式：{VERSION_FORM}。",
            section=SECTION_VERSIONS,
        ),
        "backend_release_version": Param(
            plan.backend_release.version,
            type="string",
            minLength=1,
            title="后端接口发布版本",
            description="发布流水线要部署到生产环境的后端版本号，例如 2024.05.28。",
            section=SECTION_VERSIONS,
        ),
        "ops_notice_threshold": Param(
            plan.fleet.ops_notice_threshold,
            type="number",
            minimum=0,
            maximum=1,
            title="运营提醒阈值",
            description="在线设备中固件低于虚拟人模块版本的占比达到此值（0 到 1 之间的小数）时，需要运营提醒用户。",
            section=SECTION_SAFETY,
        ),
        "ftt_upgrade_day": Param(
            plan.dates.ftt_upgrade_day.isoformat(),
            type="string",
            format="date",
            title="FTT升级日期",
            description="供应商升级FTT生产环境的日期，格式 YYYY-MM-DD。",
            section=SECTION_TIMING,
        ),
        "ftt_upgrade_window_hours": Param(
            plan.ftt.upgrade_window_hours,
            type="number",
            exclusiveMinimum=0,
            maximum=72,
            title="FTT升级窗口（小时）",
            description="超过此时长仍未升级完成时提醒负责人，等待继续。",
            section=SECTION_TIMING,
        ),
        "ftt_upgrade_cap_hours": Param(
            plan.ftt.upgrade_cap_hours,
            type="number",
            exclusiveMinimum=0,
            maximum=168,
            title="FTT升级最长等待（小时）",
            description="超过此时长仍未升级完成时该步骤失败；不能小于升级窗口。",
            section=SECTION_TIMING,
        ),
        "poll_interval_seconds": Param(
            None,
            type=["null", "number"],
            exclusiveMinimum=0,
            maximum=3600,
            title="轮询间隔（秒）",
            description="所有等待步骤查询外部系统的间隔；留空则使用计划中的值。演练时可设为几秒。",
            section=SECTION_TIMING,
        ),
    }


def _field_error(name: str, value: Any, expected: str) -> CutoverParamsError:
    return CutoverParamsError(f"参数 {name} 的值 {value!r} 无效：应为{expected}。")


def _version(raw: Mapping[str, Any], name: str) -> str:
    value = raw[name]
    if not isinstance(value, str) or not re.fullmatch(VERSION_PATTERN, value):
        raise _field_error(name, value, VERSION_FORM)
    return value


def _domain(raw: Mapping[str, Any], name: str) -> str:
    value = raw[name]
    if not isinstance(value, str) or not re.fullmatch(HTTPS_URL_PATTERN, value):
        raise _field_error(name, value, DOMAIN_FORM)
    return value.rstrip("/")


def _number(raw: Mapping[str, Any], name: str, *, low: float, high: float, low_inclusive: bool) -> float:
    value = raw[name]
    expected = f"{'不小于' if low_inclusive else '大于'} {low:g} 且不大于 {high:g} 的数字"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _field_error(name, value, expected)
    if value < low or (value == low and not low_inclusive) or value > high:
        raise _field_error(name, value, expected)
    return float(value)


def resolve_run_settings(plan: CutoverPlan, params: Mapping[str, Any]) -> RunSettings:
    """
    Validate a run's parameters against the plan and return its settings.

    :raises CutoverParamsError: naming the first invalid field and its expected form.
    """
    defaults = {name: param.value for name, param in build_params(plan).items()}
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise CutoverParamsError(f"未知参数 {unknown}：可用的参数为 {sorted(defaults)}。")
    raw = {**defaults, **dict(params)}

    dry_run = raw["dry_run"]
    if not isinstance(dry_run, bool):
        raise _field_error("dry_run", dry_run, "布尔值 true 或 false")

    clients = raw["clients"]
    if not isinstance(clients, list | tuple) or not clients:
        raise _field_error("clients", clients, f"非空的客户端列表，取值为 {list(plan.clients)}")
    unknown_clients = [c for c in clients if c not in plan.clients]
    if unknown_clients:
        raise _field_error("clients", clients, f"计划中的客户端 {list(plan.clients)}，未知的有 {unknown_clients}")
    if len(set(clients)) != len(clients):
        raise _field_error("clients", clients, "不重复的客户端列表")

    test_domain = _domain(raw, "test_domain")
    prod_domain = _domain(raw, "prod_domain")
    if test_domain == prod_domain:
        raise _field_error("prod_domain", raw["prod_domain"], f"与测试环境域名（test_domain）不同的{DOMAIN_FORM}")

    backend_version = raw["backend_release_version"]
    if not isinstance(backend_version, str) or not backend_version.strip():
        raise _field_error("backend_release_version", backend_version, "非空的版本号，例如 2024.05.28")

    window = _number(raw, "ftt_upgrade_window_hours", low=0, high=72, low_inclusive=False)
    cap = _number(raw, "ftt_upgrade_cap_hours", low=0, high=168, low_inclusive=False)
    if cap < window:
        raise _field_error("ftt_upgrade_cap_hours", raw["ftt_upgrade_cap_hours"], f"不小于升级窗口 {window:g} 小时的数字")

    poll = raw["poll_interval_seconds"]
    if poll is not None:
        poll = _number(raw, "poll_interval_seconds", low=0, high=3600, low_inclusive=False)

    day_text = raw["ftt_upgrade_day"]
    try:
        if not isinstance(day_text, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", day_text):
            raise ValueError(day_text)
        upgrade_day = dt.date.fromisoformat(day_text)
    except ValueError:
        raise _field_error("ftt_upgrade_day", day_text, "YYYY-MM-DD 格式的日期，例如 2024-05-28") from None

    return RunSettings(
        dry_run=dry_run,
        clients=tuple(clients),
        gray_rule_min_version=_version(raw, "gray_rule_min_version"),
        app_release_version=_version(raw, "app_release_version"),
        device_release_version=_version(raw, "device_release_version"),
        prompt_below_version=_version(raw, "prompt_below_version"),
        backend_release_version=backend_version.strip(),
        test_domain=test_domain,
        prod_domain=prod_domain,
        ops_notice_threshold=_number(raw, "ops_notice_threshold", low=0, high=1, low_inclusive=True),
        ftt_upgrade_window_hours=window,
        ftt_upgrade_cap_hours=cap,
        poll_interval_seconds=poll,
        ftt_upgrade_day=upgrade_day,
    )
