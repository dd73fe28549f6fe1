"""Every message the cutover sends, in one place. Each function names who the message is for."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from vh_cutover.audit import OUTCOME_LABELS
from vh_cutover.plan.models import CutoverPlan


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _names(plan: CutoverPlan, logins: Iterable[str]) -> str:
    return "、".join(plan.people[login] for login in logins)


def plan_announced(plan: CutoverPlan, *, dry_run: bool, ops_notice: Mapping[str, Any]) -> tuple[str, str]:
    """For everyone: the plan's steps, owners and dates."""
    mode = "（演练模式：只读取、不修改）" if dry_run else ""
    lines = [f"### {plan.title}{mode}", "", "切换流程已启动，各步骤及负责人如下："]
    for step_id, step in plan.steps.items():
        lines.append(f"- {step.title}：{_names(plan, step.owners)}")
    dates = plan.dates
    lines += [
        "",
        f"日期：虚拟人模块封板 {dates.module_freeze}，FTT升级 {dates.ftt_upgrade_day}，"
        f"万得厨APP发版 {dates.app_release}，万得厨2.0发版 {dates.device_release}。",
        f"运营提醒：{ops_notice.get('reason', '')}",
    ]
    return "切换计划已发布", "\n".join(lines)


def gate_waiting(plan: CutoverPlan, *, logins: Iterable[str], gate_title: str, link: str) -> tuple[str, str]:
    """For a gate's assigned users: the gate is waiting for them."""
    text = (
        f"### 待你确认：{gate_title}\n\n{_names(plan, logins)}，此步骤正在等待你们确认。"
        f"\n\n[打开确认页面]({link})"
    )
    return f"待确认：{gate_title}", text


def step_failed(plan: CutoverPlan, *, logins: Iterable[str], task_title: str, reason: str, try_number: int,
                will_retry: bool, log_link: str) -> tuple[str, str]:
    """For a step's owners: the step failed."""
    retry = "将自动重试" if will_retry else "不会自动重试，需要人工处理后清除（Clear）任务"
    text = (
        f"### 步骤失败：{task_title}\n\n{_names(plan, logins)}，你们负责的步骤失败了。\n\n"
        f"- 原因：{reason}\n- 第 {try_number} 次尝试，{retry}\n\n[查看日志]({log_link})"
    )
    return f"步骤失败：{task_title}", text


def ftt_upgraded(plan: CutoverPlan, *, announcer: str, version: str, content_revision: str) -> tuple[str, str]:
    """For everyone: FTT production is upgraded (announced on behalf of the step's owner)."""
    text = (
        f"### FTT生产环境升级成功\n\n{announcer} 通知大家：FTT后台生产环境已升级到 {version}"
        f"（内容 {content_revision}），与测试环境一致。各客户端可以开始切换到生产环境。"
    )
    return "FTT生产环境升级成功", text


def ftt_window_exceeded(plan: CutoverPlan, *, logins: Iterable[str], window_hours: float,
                        state: Mapping[str, Any]) -> tuple[str, str]:
    """For the FTT step's owners and the coordinator: the upgrade window has passed."""
    text = (
        f"### FTT升级超出窗口\n\n{_names(plan, logins)}：FTT生产环境在 {window_hours:g} 小时窗口内仍未升级完成"
        f"（当前版本 {state.get('version')}，升级状态 {state.get('upgrade_state')}）。流程继续等待，请联系供应商确认进度。"
    )
    return "FTT升级超出窗口", text


def shadow_world_informed(plan: CutoverPlan, *, domain: str) -> tuple[str, str]:
    """For everyone, addressed to the Shadow World team: their PTA backend now uses production."""
    text = (
        "### 影子世界APP 信息同步\n\n影子世界团队：PTA模块对应的影子后端已指向升级后的FTT生产环境"
        f"（{domain}）。请在月底版本中将影子世界APP同样指向生产环境。"
    )
    return "影子世界PTA切换通知", text


def step_started(plan: CutoverPlan, *, logins: Iterable[str], step_title: str, task_title: str,
                 link: str) -> tuple[str, str]:
    """For a step's owners: the first task of their step has started."""
    text = (
        f"### 步骤开始：{step_title}\n\n{_names(plan, logins)}，你们负责的步骤已开始"
        f"（当前任务：{task_title}）。\n\n[查看任务]({link})"
    )
    return f"步骤开始：{step_title}", text


def gate_reminder(plan: CutoverPlan, *, logins: Iterable[str], gate_title: str, minutes: float,
                  link: str) -> tuple[str, str]:
    """For a gate's assigned users: the gate is still waiting after the escalation time."""
    text = (
        f"### 再次提醒：{gate_title}\n\n{_names(plan, logins)}，此确认已等待 {minutes:g} 分钟仍未处理，"
        f"流程停在这里。\n\n[打开确认页面]({link})"
    )
    return f"再次提醒：{gate_title}", text


def gate_escalated(plan: CutoverPlan, *, coordinator: str, owners: Iterable[str], gate_title: str,
                   minutes: float, link: str) -> tuple[str, str]:
    """For the coordinator: a gate is still unanswered after its owners were reminded."""
    text = (
        f"### 确认无人处理：{gate_title}\n\n{plan.people[coordinator]}：此确认已等待 {minutes:g} 分钟，"
        f"提醒 {_names(plan, owners)} 后仍未处理，请协调。\n\n[打开确认页面]({link})"
    )
    return f"确认无人处理：{gate_title}", text


def failure_reminder(plan: CutoverPlan, *, logins: Iterable[str], task_title: str, try_number: int,
                     minutes: float, log_link: str) -> tuple[str, str]:
    """For a failed step's owners: the failure is still not handled after the escalation time."""
    text = (
        f"### 再次提醒：步骤失败未处理\n\n{_names(plan, logins)}，“{task_title}”第 {try_number} 次尝试失败已 "
        f"{minutes:g} 分钟，仍未处理（修复后清除（Clear）任务即可重跑）。\n\n[查看日志]({log_link})"
    )
    return f"再次提醒：{task_title} 失败未处理", text


def failure_escalated(plan: CutoverPlan, *, coordinator: str, owners: Iterable[str], task_title: str,
                      try_number: int, minutes: float | None, log_link: str) -> tuple[str, str]:
    """For the coordinator: a failed step is still not handled (or the run stopped on it)."""
    waited = f"已 {minutes:g} 分钟无人处理" if minutes is not None else "流程已停止，其余步骤均已结束"
    text = (
        f"### 步骤失败需要协调：{task_title}\n\n{plan.people[coordinator]}：“{task_title}”第 {try_number} 次尝试失败，"
        f"{waited}。负责人：{_names(plan, owners)}。\n\n[查看日志]({log_link})"
    )
    return f"步骤失败需要协调：{task_title}", text


def summary(plan: CutoverPlan, *, state: str, records: list[Mapping[str, Any]], timeline: list[str],
            planned: Mapping[str, str] | None = None,
            undelivered: list[Mapping[str, Any]] | None = None) -> tuple[str, str]:
    """For everyone: planned dates, actual timeline, every change with its actor, and undelivered notices."""
    lines = [f"### 切换总结：{state}", ""]
    if planned:
        labels = {"ftt_upgrade_day": "FTT升级", "app_release": "万得厨APP发版", "device_release": "万得厨2.0发版"}
        lines += ["#### 计划日期"] + [f"- {labels.get(key, key)}：{value}" for key, value in planned.items()] + [""]
    lines += ["#### 实际时间线"] + [f"- {item}" for item in timeline]
    lines += ["", "#### 变更记录"]
    for record in records:
        lines.append(
            f"- {record['system']} {record['key']}：{OUTCOME_LABELS.get(record['outcome'], record['outcome'])}，"
            f"`{_json(record['before'])}` → `{_json(record['after'])}`"
            f"（{record['actor']}，任务 {record['task_id']} 第 {record['try_number']} 次尝试，{record['at']}）"
        )
    if not records:
        lines.append("- 无")
    lines += ["", "#### 未送达的通知"]
    for row in undelivered or []:
        lines.append(f"- {row['title']}（渠道 {row['channel']}，收件人 {_names(plan, row['logins']) or '无'}）：{row['error']}")
    if not undelivered:
        lines.append("- 无")
    return f"切换总结：{state}", "\n".join(lines)
