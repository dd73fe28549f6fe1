"""Hook for the backend release pipeline that deploys or rolls back the virtual-human backend."""

from __future__ import annotations

from typing import Any

from vh_cutover.hooks.base import (
    AsyncCutoverHttpClient,
    CutoverHttpHook,
    path_segment,
    require_field,
    require_text,
)

RELEASE_ACTIONS = ("deploy", "rollback")


class ReleasePipelineHook(CutoverHttpHook):
    """
    Read deployed versions and start or follow release jobs.

    :param release_conn_id: connection of the release pipeline.
    """

    conn_name_attr = "release_conn_id"
    default_conn_name = "vh_release_pipeline"
    hook_name = "Virtual-human release pipeline"
    system = "release_pipeline"
    test_endpoint = "/services/vh-backend"

    def __init__(self, release_conn_id: str = default_conn_name) -> None:
        super().__init__(conn_id=release_conn_id)
        self.release_conn_id = release_conn_id
        self._async_client: AsyncCutoverHttpClient | None = None

    def _checked_job(self, job: dict[str, Any], method: str, endpoint: str) -> dict[str, Any]:
        require_field(job, "job_id", (str,), system=self.system, method=method, endpoint=endpoint)
        require_field(job, "state", (str,), system=self.system, method=method, endpoint=endpoint)
        return job

    def get_service(self, service: str) -> dict[str, Any]:
        """Return the service's ``deployed_version`` and ``previous_version``."""
        endpoint = f"/services/{path_segment(require_text('service', service))}"
        document = self.request_json("GET", endpoint)
        require_field(
            document, "deployed_version", (str, type(None)), system=self.system, method="GET", endpoint=endpoint
        )
        return document

    def start_job(self, service: str, version: str, action: str = "deploy", *, idempotency_key: str) -> dict[str, Any]:
        """
        Start a release job, or return the existing one started with the same ``idempotency_key``.

        The result's ``created`` is false when the job already existed, so a retried task starts
        no second job.

        :param action: ``deploy`` or ``rollback``.
        """
        if action not in RELEASE_ACTIONS:
            raise ValueError(f"action must be one of {RELEASE_ACTIONS}, got {action!r}")
        body = {
            "service": require_text("service", service),
            "version": require_text("version", version),
            "action": action,
            "idempotency_key": require_text("idempotency_key", idempotency_key),
        }
        return self._checked_job(self.request_json("POST", "/jobs", json=body), "POST", "/jobs")

    def get_job(self, job_id: str) -> dict[str, Any]:
        """Return the job: ``state`` is ``running``, ``succeeded`` or ``failed``, with a ``message``."""
        endpoint = f"/jobs/{path_segment(require_text('job_id', job_id))}"
        return self._checked_job(self.request_json("GET", endpoint), "GET", endpoint)

    async def aget_job(self, job_id: str) -> dict[str, Any]:
        """Async :meth:`get_job` for triggers."""
        endpoint = f"/jobs/{path_segment(require_text('job_id', job_id))}"
        if self._async_client is None:
            self._async_client = AsyncCutoverHttpClient(self.release_conn_id, system=self.system)
        return self._checked_job(await self._async_client.request_json("GET", endpoint), "GET", endpoint)
