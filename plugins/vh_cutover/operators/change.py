"""
Idempotent changes to outside systems: read, compare, write only if different, read back, audit.

Each write carries a change key that is the same on every try of the task, and the systems store
it next to the value. A retry that finds the target already in place can therefore tell whether an
earlier try of the same task wrote it (audited as such) or it was there before the run.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import Any, ClassVar

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowSkipException

from vh_cutover import audit
from vh_cutover.exceptions import CutoverHttpError, CutoverStepError, MalformedResponseError
from vh_cutover.hooks.ftt import FTT_PROD_CONN_ID, FTT_TEST_CONN_ID, FttHook
from vh_cutover.hooks.gray_rules import GrayRuleHook
from vh_cutover.hooks.remote_config import RemoteConfigHook
from vh_cutover.params import RunSettings
from vh_cutover.runtime import change_key, current_plan, gate_responder, run_settings


@contextlib.contextmanager
def owner_readable_errors() -> Iterator[None]:
    """
    Re-raise a hook's HTTP or response error as a :class:`CutoverStepError` with a Chinese message.

    The failure reason of a task reaches its owners in chat, so it names the system, the request
    and what to do. The original error stays attached as ``__cause__`` for the task log.
    """
    try:
        yield
    except CutoverHttpError as error:
        status = "无响应" if error.status is None else f"HTTP {error.status}"
        raise CutoverStepError(
            f"外部系统 {error.system} 请求失败（{error.method} {error.url_path}，{status}）：{error.detail}。"
            "自动重试后仍失败时，请检查该系统及其 Airflow 连接，恢复后清除（Clear）此任务。"
        ) from error
    except MalformedResponseError as error:
        raise CutoverStepError(
            f"外部系统 {error.system} 返回了无法解析的响应（{error.method} {error.url_path}）：{error.detail}。"
            "请确认该系统工作正常后清除（Clear）此任务。"
        ) from error


class CutoverChangeOperator(BaseOperator):
    """
    Base class of every step that changes one key of an outside system.

    Subclasses implement :meth:`read_state`, :meth:`target_state` and :meth:`write_state`; the
    state they compare is a small JSON-able value (a version, a settings dict).

    :param approved_by_task_id: the gate whose responder is recorded as the actor of the change.
    """

    system: ClassVar[str] = ""
    ui_color = "#e8f4ea"

    def __init__(self, *, approved_by_task_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.approved_by_task_id = approved_by_task_id

    def audit_key(self) -> str:
        raise NotImplementedError

    def read_state(self, settings: RunSettings) -> tuple[Any, str | None]:
        """Return the current state and the change key stored with it."""
        raise NotImplementedError

    def target_state(self, settings: RunSettings) -> Any:
        raise NotImplementedError

    def write_state(self, settings: RunSettings, target: Any, *, key: str, actor: str) -> None:
        raise NotImplementedError

    def skip_reason(self, settings: RunSettings) -> str | None:
        """Return why this step does not apply to the run, or None when it does."""
        return None

    def check_guards(self, settings: RunSettings, context: Any) -> None:
        """Raise :class:`CutoverStepError` when the change must not be made now."""

    def execute(self, context: Any) -> dict[str, Any]:
        with owner_readable_errors():
            return self._apply(context)

    def _apply(self, context: Any) -> dict[str, Any]:
        settings = run_settings(context)
        reason = self.skip_reason(settings)
        if reason:
            raise AirflowSkipException(reason)

        before, stored_key = self.read_state(settings)
        target = self.target_state(settings)
        actor = gate_responder(context, self.approved_by_task_id)
        key = change_key(context)

        if before == target:
            outcome = "applied_by_earlier_try" if stored_key == key else "no_change"
            record = audit.AuditRecord.create(
                context, system=self.system, key=self.audit_key(), before=before if outcome == "no_change" else None,
                after=before, actor=actor, outcome=outcome,
            )
            return audit.publish(context, [record])[0]

        if settings.dry_run:
            record = audit.AuditRecord.create(
                context, system=self.system, key=self.audit_key(), before=before, after=target, actor=actor,
                outcome="dry_run", note=self._dry_run_guard_note(settings, context),
            )
            return audit.publish(context, [record])[0]
        self.check_guards(settings, context)

        self.write_state(settings, target, key=key, actor=actor)
        after, _ = self.read_state(settings)
        if after != target:
            raise CutoverStepError(
                f"{self.system} 的 {self.audit_key()} 写入后读回的值与目标不一致："
                f"目标 {_show(target)}，读回 {_show(after)}。请检查该系统后重试此任务。"
            )
        record = audit.AuditRecord.create(
            context, system=self.system, key=self.audit_key(), before=before, after=after, actor=actor,
            outcome="changed",
        )
        return audit.publish(context, [record])[0]


    def _dry_run_guard_note(self, settings: RunSettings, context: Any) -> str | None:
        """
        Evaluate the guards in a dry run and return what they would refuse, instead of failing.

        A dry run switches nothing, so guards that depend on earlier changes refuse by design;
        failing here would end the walk before the summary. The note records the refusal so the
        dry run still shows what would block a real run.
        """
        try:
            self.check_guards(settings, context)
        except CutoverStepError as refusal:
            self.log.info("dry_run guard_refused system=%s key=%s reason=%s", self.system, self.audit_key(), refusal)
            return f"实际运行时此步骤会被拒绝：{refusal}"
        return None


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class SetGrayRuleOperator(CutoverChangeOperator):
    """
    Set the gray-release rule that hides a module from clients below a minimum version.

    The minimum version is the run's ``gray_rule_min_version``.

    :param client: client id, e.g. ``wandechu_app``.
    :param module: module id, e.g. ``virtual_human``.
    :param remove: clear the rule instead (the rollback of this step).
    """

    system = "gray_rules"

    def __init__(self, *, client: str, module: str, remove: bool = False,
                 gray_rule_conn_id: str = GrayRuleHook.default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = client
        self.module = module
        self.remove = remove
        self.gray_rule_conn_id = gray_rule_conn_id

    @cached_property
    def hook(self) -> GrayRuleHook:
        return GrayRuleHook(gray_rule_conn_id=self.gray_rule_conn_id)

    def audit_key(self) -> str:
        return f"{self.client}/{self.module}.min_version"

    def read_state(self, settings: RunSettings) -> tuple[Any, str | None]:
        rule = self.hook.get_rule(self.client, self.module)
        return rule.get("min_version"), rule.get("change_key")

    def target_state(self, settings: RunSettings) -> Any:
        return None if self.remove else settings.gray_rule_min_version

    def write_state(self, settings: RunSettings, target: Any, *, key: str, actor: str) -> None:
        self.hook.put_rule(self.client, self.module, target, updated_by=actor, change_key=key)


class RemoteConfigModuleOperator(CutoverChangeOperator):
    """
    Base class of the steps that set one module's settings in a client's remote configuration.

    Subclasses set ``module`` and implement :meth:`target_state`.

    :param client: client id from the plan.
    """

    system = "remote_config"
    module: ClassVar[str] = ""

    def __init__(self, *, client: str, remote_config_conn_id: str = RemoteConfigHook.default_conn_name,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = client
        self.remote_config_conn_id = remote_config_conn_id

    @cached_property
    def hook(self) -> RemoteConfigHook:
        return RemoteConfigHook(remote_config_conn_id=self.remote_config_conn_id)

    def audit_key(self) -> str:
        return f"{self.client}/{self.module}"

    def read_state(self, settings: RunSettings) -> tuple[Any, str | None]:
        document = self.hook.get_module(self.client, self.module)
        return document.get("settings", {}), document.get("change_key")

    def write_state(self, settings: RunSettings, target: Any, *, key: str, actor: str) -> None:
        self.hook.put_module(self.client, self.module, target, updated_by=actor, change_key=key)


class SwitchClientEnvironmentOperator(RemoteConfigModuleOperator):
    """
    Point a client's virtual-human module at one FTT environment (domain and related settings).

    The switch is rejected while that environment reports itself reclaimed, because a rollback
    after the test environment was handed back would point the client at nothing.

    :param environment: ``prod`` for the cutover, ``test`` for a rollback.
    :param ftt_conn_id: connection of that FTT environment; by default the environment's own.
    """

    module = "virtual_human"

    def __init__(self, *, environment: str = "prod", ftt_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.environment = environment
        self.ftt_conn_id = ftt_conn_id or (FTT_PROD_CONN_ID if environment == "prod" else FTT_TEST_CONN_ID)

    @cached_property
    def ftt(self) -> FttHook:
        return FttHook(ftt_conn_id=self.ftt_conn_id)

    def check_guards(self, settings: RunSettings, context: Any) -> None:
        if self.ftt.get_status().get("reclaimed"):
            raise CutoverStepError(
                f"拒绝把 {self.client} 指向 FTT {self.environment} 环境：该环境已被回收。"
                "请与 FTT 确认可用的环境后再处理此任务。"
            )

    def skip_reason(self, settings: RunSettings) -> str | None:
        if self.client not in settings.clients:
            return f"本次运行未选择客户端 {self.client}（参数 clients={list(settings.clients)}）"
        return None

    def target_state(self, settings: RunSettings) -> Any:
        domain = settings.prod_domain if self.environment == "prod" else settings.test_domain
        return {
            "domain": domain,
            "environment": self.environment,
            "app_id": current_plan().clients[self.client].app_id,
        }


class SetUpgradePromptOperator(RemoteConfigModuleOperator):
    """Show devices below a version the prompt to upgrade (remote configuration ``upgrade_prompt``)."""

    module = "upgrade_prompt"

    def target_state(self, settings: RunSettings) -> Any:
        return {"below_version": settings.prompt_below_version, "message": current_plan().device_prompt.message}


def clients_on_environment(hook: RemoteConfigHook, clients: Sequence[str], environment: str) -> list[str]:
    """Return the clients whose virtual-human module points at ``environment``."""
    return [
        client
        for client in clients
        if hook.get_module(client, "virtual_human").get("settings", {}).get("environment") == environment
    ]
