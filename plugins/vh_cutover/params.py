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
from vh_cutover.plan.models import HTTPS_URL_PATTERN, VERSION_PATTERN, CutoverPlan

VERSION_FORM = "x.y.z 形式的版本号（半角数字，不带 v 前缀或后缀），例如 4.4.9"
DOMAIN_FORM = "以 https:// 开头的域名，例如 https://vh.example.com"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
SECTION_SWITCH = "切换目标"
SECTION_VERSIONS = "版本"
SECTION_TIMING = "时间窗口"
SECTION_SAFETY = "安全"

# Expected form of each parameter, used both in the trigger form's schema and in the in-DAG check.
EXPECTED_FORMS: dict[str, str] = {
    "dry_run": "布尔值 true 或 false",
    "clients": "非空、不重复的客户端列表，只能取计划中的客户端",
    "test_domain": DOMAIN_FORM,
    "prod_domain": f"{DOMAIN_FORM}，且不能与测试环境域名（test_domain）相同",
    "gray_rule_min_version": VERSION_FORM,
    "app_release_version": VERSION_FORM,
    "device_release_version": VERSION_FORM,
    "prompt_below_version": VERSION_FORM,
    "backend_release_version": "x.y.z 形式的后端版本号（半角数字），例如 2024.05.28",
    "ops_notice_threshold": "不小于 0 且不大于 1 的数字",
    "ftt_upgrade_day": "YYYY-MM-DD 格式的有效日期，例如 2024-05-28",
    "ftt_upgrade_window_hours": "大于 0 且不大于 72 的数字",
    "ftt_upgrade_cap_hours": "大于 0 且不大于 168 的数字，且不小于升级窗口（ftt_upgrade_window_hours）",
    "poll_interval_seconds": "留空，或大于 0 且不大于 3600 的数字",
}


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


def invalid_message(name: str, title: str) -> str:
    """
    Return the Chinese message that names a parameter and the form its value must have.

    It has no spaces because the API's error prints the schema with ``pprint``, which would break
    the message into quoted pieces at each space.
    """
    return f"参数{name}（{title}）无效：应为{EXPECTED_FORMS[name]}。".replace(" ", "")


def _param(name: str, default: Any, *, title: str, description: str, section: str, **schema: Any) -> Param:
    """
    Build one trigger-form parameter whose schema carries its Chinese error message.

    Airflow 3.3.2 checks only min/max and length in the browser. It validates the rest on the
    server with ``jsonschema`` when the run is created and responds with ``400 Invalid input for
    param <name>: <English jsonschema message>``, which the trigger form shows in its error alert.
    Neither offers a custom message. The jsonschema message also prints the failing schema, so the
    ``errorMessage`` keyword (ignored by the validator, named as in ajv-errors) puts the Chinese
    message into the text the person who triggered the run reads.

    NOTE: how the form shows the error was read from the UI bundle of 3.3.2, not seen in a browser.
    """
    message = invalid_message(name, title)
    items = schema.pop("items", None)
    if items is not None:
        schema["items"] = {**items, "errorMessage": message}
    return Param(
        default,
        description=description,
        schema={"title": title, "errorMessage": message, **schema, "section": section},
    )


def build_params(plan: CutoverPlan) -> dict[str, Param]:
    """Build the trigger form from the plan's defaults."""
    client_labels = {client_id: client.name for client_id, client in plan.clients.items()}
    app = plan.clients["wandechu_app"]
    device = plan.clients["wandechu_2_0"]
    return {
        "dry_run": _param(
            "dry_run", False, type="boolean", section=SECTION_SAFETY,
            title="演练模式（只读）",
            description="开启后每一步只读取各系统并报告将要做的修改（系统、键、修改前 → 修改后），不写入任何外部系统；"
                        "人工确认节点照常等待，聊天通知照常发送。",
        ),
        "clients": _param(
            "clients", list(plan.clients), type="array", section=SECTION_SWITCH,
            items={"type": "string", "enum": list(plan.clients)},
            uniqueItems=True,
            minItems=1,
            values_display=client_labels,
            title="切换的客户端",
            description=f"切换到生产环境的客户端，只能从计划中的客户端 {list(plan.clients)} 里选择，至少一个、不能重复。",
        ),
        "test_domain": _param(
            "test_domain", plan.ftt.domains.test, type="string", pattern=HTTPS_URL_PATTERN, section=SECTION_SWITCH,
            title="FTT测试环境域名",
            description=f"客户端当前使用、回滚时指回的测试环境域名。格式：{DOMAIN_FORM}。",
        ),
        "prod_domain": _param(
            "prod_domain", plan.ftt.domains.prod, type="string", pattern=HTTPS_URL_PATTERN, section=SECTION_SWITCH,
            title="FTT生产环境域名",
            description=f"客户端切换后使用的生产环境域名。格式：{DOMAIN_FORM}，且不能与测试环境域名相同。",
        ),
        "gray_rule_min_version": _param(
            "gray_rule_min_version", plan.gray_rule.min_version, type="string", pattern=VERSION_PATTERN,
            section=SECTION_VERSIONS,
            title="万得厨APP灰度最低版本",
            description=f"低于此版本的万得厨APP不显示虚拟人模块。格式：{VERSION_FORM}。",
        ),
        "app_release_version": _param(
            "app_release_version", app.release_version, type="string", pattern=VERSION_PATTERN,
            section=SECTION_VERSIONS,
            title="万得厨APP发布版本",
            description=f"本次随切换发布的万得厨APP版本。格式：{VERSION_FORM}。",
        ),
        "device_release_version": _param(
            "device_release_version", device.release_version, type="string", pattern=VERSION_PATTERN,
            section=SECTION_VERSIONS,
            title="万得厨2.0发布版本",
            description=f"等待其推送给用户后再设置升级提示的设备版本。格式：{VERSION_FORM}。",
        ),
        "prompt_below_version": _param(
            "prompt_below_version", plan.device_prompt.below_version, type="string", pattern=VERSION_PATTERN,
            section=SECTION_VERSIONS,
            title="升级提示版本阈值",
            description=f"低于此版本的万得厨2.0会看到升级提示。格式：{VERSION_FORM}。",
        ),
        "backend_release_version": _param(
            "backend_release_version", plan.backend_release.version, type="string", pattern=VERSION_PATTERN,
            section=SECTION_VERSIONS,
            title="后端接口发布版本",
            description=f"发布流水线要部署到生产环境的后端版本。格式：{EXPECTED_FORMS['backend_release_version']}。",
        ),
        "ops_notice_threshold": _param(
            "ops_notice_threshold", plan.fleet.ops_notice_threshold, type="number", minimum=0, maximum=1,
            section=SECTION_SAFETY,
            title="运营提醒阈值",
            description="在线设备中固件低于虚拟人模块版本的占比达到此值时，需要运营提醒用户。取值：0 到 1 之间的小数，例如 0.2。",
        ),
        "ftt_upgrade_day": _param(
            "ftt_upgrade_day", plan.dates.ftt_upgrade_day.isoformat(), type="string", format="date",
            pattern=DATE_PATTERN, section=SECTION_TIMING,
            title="FTT升级日期",
            description="供应商升级FTT生产环境的日期。格式：YYYY-MM-DD，例如 2024-05-28。",
        ),
        "ftt_upgrade_window_hours": _param(
            "ftt_upgrade_window_hours", plan.ftt.upgrade_window_hours, type="number", exclusiveMinimum=0, maximum=72,
            section=SECTION_TIMING,
            title="FTT升级窗口（小时）",
            description="超过此时长仍未升级完成时提醒负责人，等待继续。取值：大于 0 且不大于 72 的小时数。",
        ),
        "ftt_upgrade_cap_hours": _param(
            "ftt_upgrade_cap_hours", plan.ftt.upgrade_cap_hours, type="number", exclusiveMinimum=0, maximum=168,
            section=SECTION_TIMING,
            title="FTT升级最长等待（小时）",
            description="超过此时长仍未升级完成时该步骤失败。取值：大于 0 且不大于 168 的小时数，不能小于升级窗口。",
        ),
        "poll_interval_seconds": _param(
            "poll_interval_seconds", None, type=["null", "number"], exclusiveMinimum=0, maximum=3600,
            section=SECTION_TIMING,
            title="轮询间隔（秒）",
            description="所有等待步骤查询外部系统的间隔（秒）；留空则使用计划中的值。演练时可设为几秒。",
        ),
    }


class _Validator:
    """In-DAG checks of one run's raw parameters; each failure names the field, its title and form."""

    def __init__(self, raw: Mapping[str, Any], titles: Mapping[str, str]) -> None:
        self.raw = raw
        self.titles = titles

    def error(self, name: str, value: Any, detail: str = "") -> CutoverParamsError:
        return CutoverParamsError(
            f"参数 {name}（{self.titles[name]}）的值 {value!r} 无效：应为{EXPECTED_FORMS[name]}{detail}。"
        )

    def boolean(self, name: str) -> bool:
        value = self.raw[name]
        if not isinstance(value, bool):
            raise self.error(name, value)
        return value

    def version(self, name: str) -> str:
        value = self.raw[name]
        if not isinstance(value, str) or not re.fullmatch(VERSION_PATTERN, value):
            raise self.error(name, value)
        return value

    def domain(self, name: str) -> str:
        value = self.raw[name]
        if not isinstance(value, str) or not re.fullmatch(HTTPS_URL_PATTERN, value):
            raise self.error(name, value)
        return value.rstrip("/")

    def number(self, name: str, *, low: float, high: float, low_inclusive: bool) -> float:
        value = self.raw[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(name, value)
        if value < low or (value == low and not low_inclusive) or value > high:
            raise self.error(name, value)
        return float(value)

    def clients(self, name: str, known: list[str]) -> tuple[str, ...]:
        value = self.raw[name]
        if not isinstance(value, list | tuple) or not value:
            raise self.error(name, value, f" {known}")
        unknown = [client for client in value if client not in known]
        if unknown:
            raise self.error(name, value, f" {known}，未知的有 {unknown}")
        if len(set(value)) != len(value):
            raise self.error(name, value, f" {known}，不能重复")
        return tuple(value)

    def date(self, name: str) -> dt.date:
        value = self.raw[name]
        try:
            if not isinstance(value, str) or not re.fullmatch(DATE_PATTERN, value):
                raise ValueError(value)
            return dt.date.fromisoformat(value)
        except ValueError:
            raise self.error(name, value) from None


def resolve_run_settings(plan: CutoverPlan, params: Mapping[str, Any]) -> RunSettings:
    """
    Validate a run's parameters against the plan and return its settings.

    Besides every rule of the trigger form's schema, this checks what a per-field schema cannot:
    unknown parameter names, a production domain equal to the test domain, and a wait cap shorter
    than the upgrade window.

    :raises CutoverParamsError: naming the first invalid field and its expected form.
    """
    spec = build_params(plan)
    unknown = sorted(set(params) - set(spec))
    if unknown:
        raise CutoverParamsError(f"未知参数 {unknown}：参数名应为 {sorted(spec)} 之一，请检查拼写。")
    raw = {**{name: param.value for name, param in spec.items()}, **dict(params)}
    check = _Validator(raw, {name: param.schema["title"] for name, param in spec.items()})

    dry_run = check.boolean("dry_run")
    clients = check.clients("clients", list(plan.clients))

    test_domain = check.domain("test_domain")
    prod_domain = check.domain("prod_domain")
    if test_domain == prod_domain:
        raise check.error("prod_domain", raw["prod_domain"], f"（测试环境域名为 {test_domain}）")

    window = check.number("ftt_upgrade_window_hours", low=0, high=72, low_inclusive=False)
    cap = check.number("ftt_upgrade_cap_hours", low=0, high=168, low_inclusive=False)
    if cap < window:
        raise check.error("ftt_upgrade_cap_hours", raw["ftt_upgrade_cap_hours"], f"（升级窗口为 {window:g} 小时）")

    poll = raw["poll_interval_seconds"]
    if poll is not None:
        poll = check.number("poll_interval_seconds", low=0, high=3600, low_inclusive=False)

    return RunSettings(
        dry_run=dry_run,
        clients=clients,
        gray_rule_min_version=check.version("gray_rule_min_version"),
        app_release_version=check.version("app_release_version"),
        device_release_version=check.version("device_release_version"),
        prompt_below_version=check.version("prompt_below_version"),
        backend_release_version=check.version("backend_release_version"),
        test_domain=test_domain,
        prod_domain=prod_domain,
        ops_notice_threshold=check.number("ops_notice_threshold", low=0, high=1, low_inclusive=True),
        ftt_upgrade_window_hours=window,
        ftt_upgrade_cap_hours=cap,
        poll_interval_seconds=poll,
        ftt_upgrade_day=check.date("ftt_upgrade_day"),
    )
