"""Backend release through the release pipeline, waiting for the job in the triggerer."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowSkipException

from vh_cutover import audit
from vh_cutover.exceptions import CutoverStepError
from vh_cutover.hooks.release_pipeline import ReleasePipelineHook
from vh_cutover.operators.change import owner_readable_errors
from vh_cutover.runtime import change_key, current_plan, gate_responder, run_settings
from vh_cutover.triggers.release_pipeline import ReleaseJobTrigger


class BackendReleaseOperator(BaseOperator):
    """
    Deploy (or roll back) a backend service to a version and wait for the pipeline job.

    The job is started with an idempotency key that is the same on every try of the task, so a
    retry after a crash finds the job it already started instead of starting a second one. A job
    that failed is not resumed: the next try starts a new job under a key with the try number.

    :param action: ``deploy`` to the run's ``backend_release_version``, or ``rollback`` to the
        version the service ran before the run (read from this run's deploy task XCom).
    :param deploy_task_id: for ``rollback``, the deploy task whose audit contains the earlier version.
    """

    system = "release_pipeline"
    ui_color = "#e8f4ea"

    def __init__(self, *, action: str = "deploy", deploy_task_id: str | None = None,
                 approved_by_task_id: str | None = None,
                 release_conn_id: str = ReleasePipelineHook.default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.action = action
        self.deploy_task_id = deploy_task_id
        self.approved_by_task_id = approved_by_task_id
        self.release_conn_id = release_conn_id

    @cached_property
    def hook(self) -> ReleasePipelineHook:
        return ReleasePipelineHook(release_conn_id=self.release_conn_id)

    def _target_version(self, context: Any) -> str:
        if self.action == "deploy":
            return run_settings(context).backend_release_version
        deployed = context["ti"].xcom_pull(task_ids=self.deploy_task_id, key=audit.AUDIT_XCOM_KEY) or []
        changed = [record for record in deployed if record.get("outcome") in ("changed", "applied_by_earlier_try")]
        if not changed or not changed[0].get("before"):
            raise AirflowSkipException("本次运行没有发布过后端，无需回滚。")
        return changed[0]["before"]

    def execute(self, context: Any) -> dict[str, Any]:
        with owner_readable_errors():
            return self._start(context)

    def _start(self, context: Any) -> dict[str, Any]:
        settings = run_settings(context)
        service = current_plan().backend_release.service
        target = self._target_version(context)
        deployed = self.hook.get_service(service)
        before = deployed.get("deployed_version")
        actor = gate_responder(context, self.approved_by_task_id)
        audit_key = f"{service}.deployed_version"
        key = f"{change_key(context)}/{self.action}/{target}"

        if before == target:
            # The job of an earlier try (its key, or the key with a try suffix) finished after that try
            # died. The version it replaced is the service's previous one, which a rollback needs.
            deployed_by = str(deployed.get("deployed_by_key") or "")
            if deployed_by == key or deployed_by.startswith(f"{key}/"):
                outcome, before = "applied_by_earlier_try", deployed.get("previous_version")
            else:
                outcome = "no_change"
            record = audit.AuditRecord.create(context, system=self.system, key=audit_key, before=before,
                                              after=target, actor=actor, outcome=outcome)
            return audit.publish(context, [record])[0]
        if settings.dry_run:
            record = audit.AuditRecord.create(context, system=self.system, key=audit_key, before=before,
                                              after=target, actor=actor, outcome="dry_run")
            return audit.publish(context, [record])[0]

        job = self.hook.start_job(service, target, self.action, idempotency_key=key)
        if job["state"] == "failed" and not job.get("created", True):
            key = f"{key}/try-{context['ti'].try_number}"
            job = self.hook.start_job(service, target, self.action, idempotency_key=key)
        self.log.info("release job=%s service=%s version=%s action=%s created=%s",
                      job["job_id"], service, target, self.action, job.get("created"))

        plan_release = current_plan().backend_release
        deadline = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=plan_release.cap_hours)
        self.defer(
            trigger=ReleaseJobTrigger(
                release_conn_id=self.release_conn_id,
                job_id=job["job_id"],
                poll_interval=settings.poll_interval(plan_release.poll_interval_seconds),
                deadline=deadline.isoformat(),
            ),
            method_name="execute_complete",
            kwargs={"before": before, "target": target, "actor": actor, "job_id": job["job_id"]},
        )

    def execute_complete(self, context: Any, event: dict[str, Any], *, before: str | None, target: str,
                         actor: str, job_id: str) -> dict[str, Any]:
        with owner_readable_errors():
            return self._finish(context, event, before=before, target=target, actor=actor, job_id=job_id)

    def _finish(self, context: Any, event: dict[str, Any], *, before: str | None, target: str, actor: str,
                job_id: str) -> dict[str, Any]:
        service = current_plan().backend_release.service
        if event["status"] != "succeeded":
            reason = {"failed": "发布任务失败", "deadline": "发布任务超时未完成"}.get(event["status"], "查询发布任务失败")
            raise CutoverStepError(
                f"{service} {self.action} 到 {target}：{reason}（任务 {job_id}：{event.get('message') or '无详情'}）。"
                "请在发布流水线查看该任务，处理后清除此任务重试。"
            )

        after = self.hook.get_service(service).get("deployed_version")
        if after != target:
            raise CutoverStepError(f"发布任务 {job_id} 报告成功，但 {service} 当前版本为 {after}，不是 {target}。")
        record = audit.AuditRecord.create(context, system=self.system, key=f"{service}.deployed_version",
                                          before=before, after=after, actor=actor, outcome="changed")
        return audit.publish(context, [record])[0]
