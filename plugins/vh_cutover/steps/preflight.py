"""Preflight: every system reachable, fleet figures, and the operations-notice decision."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from vh_cutover.exceptions import CutoverStepError
from vh_cutover.plan.models import CutoverPlan, parse_version

log = logging.getLogger(__name__)


def other_running_runs(ti: Any) -> list[str]:
    """
    Return the ids of the other running runs of this task's DAG, read through the Task SDK.

    Two runs that reach this check at the same moment both see each other and both stop, which
    is the safe outcome: nothing has been written yet and the coordinator triggers again.
    """
    running = ti.get_dr_count(dag_id=ti.dag_id, states=["running"])
    if running <= 1:
        return []
    candidates = ti.get_task_states(dag_id=ti.dag_id, task_ids=[ti.task_id])
    others = [
        run_id for run_id in candidates
        if run_id != ti.run_id and ti.get_dagrun_state(dag_id=ti.dag_id, run_id=run_id) == "running"
    ]
    # The count and the listing are two reads; a run that appeared in between is still reported.
    return others or [f"（另有 {running - 1} 个运行）"]


def reject_concurrent_run(run_id: str, others: list[str]) -> None:
    """
    Stop a run while another run of the cutover is still running.

    :raises CutoverStepError: naming the running runs and what the coordinator can do.
    """
    if not others:
        return
    log.warning("preflight rejected run_id=%s running=%s", run_id, ",".join(others))
    raise CutoverStepError(
        f"拒绝启动本次切换运行 {run_id}：切换运行 {'、'.join(others)} 仍在进行中，同一时间只允许一个切换运行，"
        "本次运行没有修改任何系统。请等待该运行结束；如确需重新开始，请先在界面中把它标记为失败（Mark as failed），再重新触发。"
    )


def check_reachable(probes: Mapping[str, Callable[[], Any]]) -> dict[str, str]:
    """
    Run one read per system and return ``{system: "ok"}``.

    :raises CutoverStepError: listing every system whose read failed, with its error.
    """
    failures = {}
    for system, probe in probes.items():
        try:
            probe()
        except Exception as error:  # each probe's failure is collected and reported together
            log.warning("preflight unreachable system=%s error=%s", system, error)
            failures[system] = str(error).splitlines()[0] if str(error) else type(error).__name__
        else:
            log.info("preflight reachable system=%s", system)
    if failures:
        detail = "；".join(f"{system}：{error}" for system, error in failures.items())
        raise CutoverStepError(f"预检失败，以下系统不可用：{detail}。请检查对应的 Airflow 连接后清除此任务重试。")
    return {system: "ok" for system in probes}


def compute_fleet_figures(devices: Iterable[Mapping[str, Any]], *, model: str, module_firmware: str) -> dict[str, Any]:
    """Count the fleet the way the plan's table does: online/offline, and below the module firmware."""
    minimum = parse_version(module_firmware)
    figures = {
        "model": model,
        "module_firmware": module_firmware,
        "total": 0,
        "online": 0,
        "offline": 0,
        "below_online": 0,
        "below_offline": 0,
        "below_offline_2_3_or_older": 0,
    }
    for device in devices:
        if device.get("model") != model:
            continue
        figures["total"] += 1
        state = "online" if device.get("online") else "offline"
        figures[state] += 1
        firmware = parse_version(device["firmware_version"])
        if firmware < minimum:
            figures[f"below_{state}"] += 1
            if state == "offline" and firmware < (2, 4, 0):
                figures["below_offline_2_3_or_older"] += 1
    online = figures["online"]
    figures["below_online_share"] = round(figures["below_online"] / online, 4) if online else 0.0
    return figures


def decide_ops_notice(figures: Mapping[str, Any], *, threshold: float) -> dict[str, Any]:
    """
    Decide whether operations must remind device users before the upgrade.

    The notice is needed when the share of online devices below the module firmware reaches the
    threshold. Offline devices are not in daily use, so they do not count.
    """
    share = figures["below_online_share"]
    needed = share >= threshold
    counts = (
        f"在线 {figures['online']} 台中有 {figures['below_online']} 台固件低于 {figures['module_firmware']}"
        f"（占 {share:.1%}），离线 {figures['offline']} 台中有 {figures['below_offline']} 台"
    )
    if needed:
        reason = f"需要运营提醒：{counts}，占比达到阈值 {threshold:.0%}。"
    else:
        reason = f"运营提醒取消：{counts}，占比低于阈值 {threshold:.0%}，受影响的活跃用户太少。"
    return {"needed": needed, "share": share, "threshold": threshold, "reason": reason}
