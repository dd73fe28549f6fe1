"""Hook for the OTA service that reports whether a device firmware release was pushed to users."""

from __future__ import annotations

from typing import Any

from vh_cutover.hooks.base import AsyncCutoverHttpClient, CutoverHttpHook, path_segment, require_field, require_text


class OtaHook(CutoverHttpHook):
    """
    Read the push state of an OTA release.

    :param ota_conn_id: connection of the OTA service.
    """

    conn_name_attr = "ota_conn_id"
    default_conn_name = "vh_ota"
    hook_name = "Virtual-human OTA releases"
    system = "ota"
    test_endpoint = "/releases/wandechu_2_0/2.7.0"

    def __init__(self, ota_conn_id: str = default_conn_name) -> None:
        super().__init__(conn_id=ota_conn_id)
        self.ota_conn_id = ota_conn_id
        self._async_client: AsyncCutoverHttpClient | None = None

    @staticmethod
    def _release_endpoint(product: str, version: str) -> str:
        product = path_segment(require_text("product", product))
        version = path_segment(require_text("version", version))
        return f"/releases/{product}/{version}"

    def _checked_release(self, release: dict[str, Any], endpoint: str) -> dict[str, Any]:
        require_field(release, "pushed", (bool,), system=self.system, method="GET", endpoint=endpoint)
        return release

    def get_release(self, product: str, version: str) -> dict[str, Any]:
        """Return the release: ``pushed`` and ``pushed_at`` (``None`` until it is pushed)."""
        endpoint = self._release_endpoint(product, version)
        return self._checked_release(self.request_json("GET", endpoint), endpoint)

    async def aget_release(self, product: str, version: str) -> dict[str, Any]:
        """Async :meth:`get_release` for triggers."""
        endpoint = self._release_endpoint(product, version)
        if self._async_client is None:
            self._async_client = AsyncCutoverHttpClient(self.ota_conn_id, system=self.system)
        return self._checked_release(await self._async_client.request_json("GET", endpoint), endpoint)
