"""Backend release: deferral to the release-job trigger, resume, crash and failed-job retries."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowSkipException, TaskDeferred

from operator_support import audit_of, writes
from vh_cutover.exceptions import CutoverStepError
from vh_cutover.hooks.release_pipeline import ReleasePipelineHook
from vh_cutover.operators.release import BackendReleaseOperator
from vh_cutover.triggers.release_pipeline import ReleaseJobTrigger

FAST = {"poll_interval_seconds": 0.05}


def release_operator(**kwargs) -> BackendReleaseOperator:
    return BackendReleaseOperator(task_id="release_backend", **kwargs)


def jobs(control) -> list[dict]:
    return control.get("/control/state").raise_for_status().json()["releases"]["jobs"]


def deployed_version(control) -> str:
    services = control.get("/control/state").raise_for_status().json()["releases"]["services"]
    return next(row for row in services if row["service"] == "vh-backend")["deployed_version"]


@pytest.fixture
def instant_jobs(rehearsal):
    rehearsal.put("/control/settings", json={"job_duration_seconds": 0}).raise_for_status()
    return rehearsal


def test_release_defers_then_completes(instant_jobs, make_context, run_trigger):
    operator = release_operator()
    context = make_context(operator, params=FAST)

    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)

    trigger = deferred.value.trigger
    assert isinstance(trigger, ReleaseJobTrigger)
    assert deferred.value.method_name == "execute_complete"
    assert deferred.value.kwargs["before"] == "2024.05.14"
    assert deferred.value.kwargs["target"] == "2024.05.28"
    [event] = run_trigger(trigger)
    assert event["status"] == "succeeded"

    record = operator.execute_complete(context, event, **deferred.value.kwargs)

    assert record["outcome"] == "changed"
    assert record["before"] == "2024.05.14"
    assert record["after"] == "2024.05.28"
    assert audit_of(context) == [record]
    assert deployed_version(instant_jobs) == "2024.05.28"
    assert len(jobs(instant_jobs)) == 1


def test_release_crash_reuses_job(rehearsal, make_context):
    """A worker killed after starting the job: the next try finds the same job instead of a second one."""
    operator = release_operator()
    with pytest.raises(TaskDeferred) as first:
        operator.execute(make_context(operator, params=FAST))

    with pytest.raises(TaskDeferred) as second:
        operator.execute(make_context(operator, params=FAST, try_number=2))

    assert second.value.kwargs["job_id"] == first.value.kwargs["job_id"]
    assert len(jobs(rehearsal)) == 1
    posted = [write["body"]["idempotency_key"] for write in writes(rehearsal, "release_pipeline")]
    assert len(posted) == 2
    assert posted[0] == posted[1]


def test_release_failed_job_then_retry(instant_jobs, make_context, run_trigger):
    instant_jobs.put("/control/settings", json={"failing_services": ["vh-backend"]}).raise_for_status()
    operator = release_operator()
    context = make_context(operator, params=FAST)
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    [event] = run_trigger(deferred.value.trigger)
    assert event["status"] == "failed"

    with pytest.raises(CutoverStepError, match="发布任务失败") as raised:
        operator.execute_complete(context, event, **deferred.value.kwargs)
    assert deferred.value.kwargs["job_id"] in str(raised.value)
    assert audit_of(context) is None
    assert deployed_version(instant_jobs) == "2024.05.14"

    instant_jobs.put("/control/settings", json={"failing_services": []}).raise_for_status()
    retry = make_context(operator, params=FAST, try_number=2)
    with pytest.raises(TaskDeferred) as redeferred:
        operator.execute(retry)
    assert redeferred.value.kwargs["job_id"] != deferred.value.kwargs["job_id"]
    [event] = run_trigger(redeferred.value.trigger)
    record = operator.execute_complete(retry, event, **redeferred.value.kwargs)

    assert record["outcome"] == "changed"
    assert record["try_number"] == 2
    assert [job["state"] for job in jobs(instant_jobs)] == ["failed", "succeeded"]


@pytest.mark.parametrize(("status", "reason"), [("deadline", "超时"), ("error", "查询发布任务失败")])
def test_release_unfinished_job_fails(rehearsal, make_context, status, reason):
    operator = release_operator()
    context = make_context(operator)
    event = {"status": status, "job_id": "job-1", "message": "still running"}

    with pytest.raises(CutoverStepError, match=reason):
        operator.execute_complete(context, event, before="2024.05.14", target="2024.05.28", actor="DAG",
                                  job_id="job-1")


def test_release_cleared_after_success_starts_no_job(instant_jobs, make_context, run_trigger):
    operator = release_operator()
    context = make_context(operator, params=FAST)
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    [event] = run_trigger(deferred.value.trigger)
    operator.execute_complete(context, event, **deferred.value.kwargs)

    record = operator.execute(make_context(operator, try_number=2, params=FAST))

    assert record["outcome"] == "applied_by_earlier_try"
    assert len(jobs(instant_jobs)) == 1


def test_release_job_finished_after_crash_counts_once(instant_jobs, make_context, run_trigger):
    operator = release_operator()
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(make_context(operator, params=FAST))
    # The job succeeds in the pipeline, but the try dies before it records the change.
    [event] = run_trigger(deferred.value.trigger)
    assert event["status"] == "succeeded"

    record = operator.execute(make_context(operator, try_number=2, params=FAST))

    assert record["outcome"] == "applied_by_earlier_try"
    assert (record["before"], record["after"]) == ("2024.05.14", "2024.05.28")
    assert len(jobs(instant_jobs)) == 1


def test_release_deployed_by_someone_else_is_no_change(instant_jobs, make_context):
    ReleasePipelineHook().start_job("vh-backend", "2024.05.28", idempotency_key="manual-1")
    assert deployed_version(instant_jobs) == "2024.05.28"

    operator = release_operator()
    record = operator.execute(make_context(operator, params=FAST))

    assert record["outcome"] == "no_change"
    assert record["before"] == "2024.05.28"
    assert len(jobs(instant_jobs)) == 1


def test_release_dry_run_starts_no_job(rehearsal, make_context):
    operator = release_operator()

    record = operator.execute(make_context(operator, params={"dry_run": True}))

    assert record["outcome"] == "dry_run"
    assert record["after"] == "2024.05.28"
    assert writes(rehearsal) == []


def test_rollback_targets_version_before_deploy(instant_jobs, make_context, run_trigger):
    deploy = release_operator()
    deploy_context = make_context(deploy, params=FAST)
    with pytest.raises(TaskDeferred) as deferred:
        deploy.execute(deploy_context)
    [event] = run_trigger(deferred.value.trigger)
    deploy.execute_complete(deploy_context, event, **deferred.value.kwargs)

    rollback = BackendReleaseOperator(task_id="rollback_backend", action="rollback",
                                      deploy_task_id="release_backend")
    context = make_context(rollback, params=FAST, xcoms={("release_backend", "audit"): audit_of(deploy_context)})
    with pytest.raises(TaskDeferred) as rolled:
        rollback.execute(context)
    [event] = run_trigger(rolled.value.trigger)
    record = rollback.execute_complete(context, event, **rolled.value.kwargs)

    assert record["after"] == "2024.05.14"
    assert deployed_version(instant_jobs) == "2024.05.14"


def test_rollback_without_deploy_skips(rehearsal, make_context):
    rollback = BackendReleaseOperator(task_id="rollback_backend", action="rollback",
                                      deploy_task_id="release_backend")

    with pytest.raises(AirflowSkipException):
        rollback.execute(make_context(rollback))
    assert writes(rehearsal) == []
