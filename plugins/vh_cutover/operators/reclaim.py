"""Reclaim of the FTT test environment, refused while anything still depends on it."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from vh_cutover.exceptions import CutoverStepError
from vh_cutover.hooks.ftt import FttHook
from vh_cutover.hooks.remote_config import RemoteConfigHook
from vh_cutover.operators.change import CutoverChangeOperator, clients_on_environment
from vh_cutover.params import RunSettings
from vh_cutover.runtime import current_plan


class ReclaimTestEnvironmentOperator(CutoverChangeOperator):
    """
    Hand the FTT test environment back to the vendor.

    Whatever a person chose at the gate, the reclaim is refused while a client still points at
    the test environment, while the test environment still sees client traffic, or while the run's
    verification has not passed.

    :param verification_task_id: task whose XCom ``{"passed": bool}`` is the run's verification.
    """

    system = "ftt_test"

    def __init__(self, *, verification_task_id: str, ftt_test_conn_id: str = "vh_ftt_test",
                 remote_config_conn_id: str = RemoteConfigHook.default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.verification_task_id = verification_task_id
        self.ftt_test_conn_id = ftt_test_conn_id
        self.remote_config_conn_id = remote_config_conn_id

    @cached_property
    def ftt_test(self) -> FttHook:
        return FttHook(ftt_conn_id=self.ftt_test_conn_id)

    @cached_property
    def remote_config(self) -> RemoteConfigHook:
        return RemoteConfigHook(remote_config_conn_id=self.remote_config_conn_id)

    def audit_key(self) -> str:
        return "test.reclaimed"

    def read_state(self, settings: RunSettings) -> tuple[Any, str | None]:
        status = self.ftt_test.get_status()
        return bool(status.get("reclaimed")), status.get("reclaim_key")

    def target_state(self, settings: RunSettings) -> Any:
        return True

    def check_guards(self, settings: RunSettings, context: Any) -> None:
        verification = context["ti"].xcom_pull(task_ids=self.verification_task_id)
        if not (isinstance(verification, dict) and verification.get("passed")):
            raise CutoverStepError("拒绝回收测试环境：本次运行的业务流程验证未通过。")

        still_on_test = clients_on_environment(self.remote_config, list(current_plan().clients), "test")
        if still_on_test:
            raise CutoverStepError(f"拒绝回收测试环境：客户端 {still_on_test} 仍指向测试环境。")

        window = current_plan().ftt.traffic_window_seconds
        traffic = self.ftt_test.get_traffic(window)
        if traffic.get("requests", 0) > 0:
            raise CutoverStepError(
                f"拒绝回收测试环境：最近 {window} 秒内测试环境仍有 {traffic['requests']} 次客户端请求"
                f"（{traffic.get('by_client', {})}）。"
            )

    def write_state(self, settings: RunSettings, target: Any, *, key: str, actor: str) -> None:
        self.ftt_test.reclaim(change_key=key)
