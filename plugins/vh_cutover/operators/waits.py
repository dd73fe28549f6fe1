"""Deferrable waits for things other people do: the vendor's FTT upgrade and the device OTA push."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow.sdk import BaseNotifier, BaseOperator

from vh_cutover.exceptions import CutoverStepError
from vh_cutover.hooks.ftt import FttHook
from vh_cutover.hooks.ota import OtaHook
from vh_cutover.operators.change import owner_readable_errors
from vh_cutover.runtime import current_plan, run_settings
from vh_cutover.triggers.ftt import FttUpgradeTrigger
from vh_cutover.triggers.ota import OtaPushTrigger


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class FttUpgradeSensor(BaseOperator):
    """
    Wait in the triggerer until FTT production carries the test environment's version and content.

    The target is read from the test environment when the wait starts. When the upgrade window of
    the run passes, ``window_notifiers`` alert the owners and the wait goes on until the cap, after
    which the task fails with what to check.

    :param window_notifiers: notifiers called once when the window is exceeded.
    """

    ui_color = "#fdf1dc"

    def __init__(self, *, ftt_prod_conn_id: str = "vh_ftt_prod", ftt_test_conn_id: str = "vh_ftt_test",
                 window_notifiers: Sequence[BaseNotifier] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ftt_prod_conn_id = ftt_prod_conn_id
        self.ftt_test_conn_id = ftt_test_conn_id
        self.window_notifiers = list(window_notifiers)

    @cached_property
    def prod(self) -> FttHook:
        return FttHook(ftt_conn_id=self.ftt_prod_conn_id)

    @cached_property
    def test(self) -> FttHook:
        return FttHook(ftt_conn_id=self.ftt_test_conn_id)

    def execute(self, context: Any) -> dict[str, Any]:
        with owner_readable_errors():
            return self._check_or_defer(context)

    def _check_or_defer(self, context: Any) -> dict[str, Any]:
        settings = run_settings(context)
        test_status = self.test.get_status()
        target_version, target_revision = test_status["version"], test_status["content_revision"]

        prod_status = self.prod.get_status()
        if (prod_status["version"], prod_status["content_revision"]) == (target_version, target_revision):
            self.log.info("ftt_upgrade already_done version=%s content_revision=%s", target_version, target_revision)
            return {"version": target_version, "content_revision": target_revision, "finished_at": None}

        started_at = _utcnow()
        self.log.info(
            "ftt_upgrade waiting target_version=%s target_revision=%s window_hours=%s cap_hours=%s",
            target_version, target_revision, settings.ftt_upgrade_window_hours, settings.ftt_upgrade_cap_hours,
        )
        self._defer(context, started_at=started_at.isoformat(), phase="window",
                    target_version=target_version, target_revision=target_revision)

    def _defer(self, context: Any, *, started_at: str, phase: str, target_version: str, target_revision: str) -> None:
        settings = run_settings(context)
        hours = settings.ftt_upgrade_window_hours if phase == "window" else settings.ftt_upgrade_cap_hours
        deadline = dt.datetime.fromisoformat(started_at) + dt.timedelta(hours=hours)
        self.defer(
            trigger=FttUpgradeTrigger(
                ftt_conn_id=self.ftt_prod_conn_id,
                target_version=target_version,
                target_revision=target_revision,
                poll_interval=settings.poll_interval(current_plan().ftt.poll_interval_seconds),
                deadline=deadline.isoformat(),
            ),
            method_name="execute_complete",
            kwargs={"started_at": started_at, "phase": phase,
                    "target_version": target_version, "target_revision": target_revision},
        )

    def execute_complete(self, context: Any, event: dict[str, Any], *, started_at: str, phase: str,
                         target_version: str, target_revision: str) -> dict[str, Any]:
        status = event["status"]
        if status == "upgraded":
            self.log.info("ftt_upgrade done version=%s content_revision=%s", event["version"], event["content_revision"])
            return {"version": event["version"], "content_revision": event["content_revision"],
                    "finished_at": event.get("finished_at")}
        if status == "failed":
            raise CutoverStepError(
                f"供应商报告FTT生产环境升级失败：{event.get('message') or '未提供原因'}。"
                "请与供应商确认后由其重新升级，再清除（Clear）此任务以继续等待。"
            )
        if status == "deadline" and phase == "window":
            settings = run_settings(context)
            self.log.warning("ftt_upgrade window_exceeded window_hours=%s", settings.ftt_upgrade_window_hours)
            context["ftt_upgrade_state"] = event
            for notifier in self.window_notifiers:
                notifier(context)
            self._defer(context, started_at=started_at, phase="cap",
                        target_version=target_version, target_revision=target_revision)
        if status == "deadline":
            settings = run_settings(context)
            raise CutoverStepError(
                f"FTT生产环境在 {settings.ftt_upgrade_cap_hours:g} 小时内未升级到目标版本 {target_version}"
                f"（内容 {target_revision}）：当前版本 {event.get('version')}，内容 {event.get('content_revision')}，"
                f"升级状态 {event.get('upgrade_state')}。请向供应商确认升级进度，并检查连接 {self.ftt_prod_conn_id}。"
            )
        raise CutoverStepError(
            f"等待FTT生产环境升级时连续查询失败：{event.get('message')}。请检查连接 {self.ftt_prod_conn_id} 后清除此任务重试。"
        )


class OtaPushSensor(BaseOperator):
    """Wait in the triggerer until a device release has been pushed to users."""

    ui_color = "#fdf1dc"

    def __init__(self, *, product: str, ota_conn_id: str = OtaHook.default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.product = product
        self.ota_conn_id = ota_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        with owner_readable_errors():
            return self._check_or_defer(context)

    def _check_or_defer(self, context: Any) -> dict[str, Any]:
        settings = run_settings(context)
        version = settings.device_release_version
        release = OtaHook(ota_conn_id=self.ota_conn_id).get_release(self.product, version)
        if release.get("pushed"):
            return {"product": self.product, "version": version, "pushed_at": release.get("pushed_at")}

        prompt = current_plan().device_prompt
        deadline = _utcnow() + dt.timedelta(hours=prompt.cap_hours)
        self.log.info("ota_push waiting product=%s version=%s deadline=%s", self.product, version, deadline.isoformat())
        self.defer(
            trigger=OtaPushTrigger(
                ota_conn_id=self.ota_conn_id,
                product=self.product,
                version=version,
                poll_interval=settings.poll_interval(prompt.poll_interval_seconds),
                deadline=deadline.isoformat(),
            ),
            method_name="execute_complete",
            kwargs={"version": version},
        )

    def execute_complete(self, context: Any, event: dict[str, Any], *, version: str) -> dict[str, Any]:
        if event["status"] == "pushed":
            return {"product": self.product, "version": version, "pushed_at": event.get("pushed_at")}
        if event["status"] == "deadline":
            raise CutoverStepError(
                f"{self.product} {version} 在 {current_plan().device_prompt.cap_hours:g} 小时内未推送给用户。"
                "请确认OTA推送计划后清除此任务重新等待。"
            )
        raise CutoverStepError(
            f"等待OTA推送时连续查询失败：{event.get('message')}。请检查连接 {self.ota_conn_id} 后清除此任务重试。"
        )
