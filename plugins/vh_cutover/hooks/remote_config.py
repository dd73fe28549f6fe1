"""Hook for the client remote-configuration service (module domain, environment and app id)."""

from __future__ import annotations

from typing import Any

from vh_cutover.hooks.base import CutoverHttpHook, path_segment, require_field, require_text


class RemoteConfigHook(CutoverHttpHook):
    """
    Read and replace the remote settings of one client module.

    :param remote_config_conn_id: connection of the remote-configuration service.
    """

    conn_name_attr = "remote_config_conn_id"
    default_conn_name = "vh_remote_config"
    hook_name = "Virtual-human remote configuration"
    system = "remote_config"
    test_endpoint = "/clients/wandechu_app/modules/virtual_human"

    def __init__(self, remote_config_conn_id: str = default_conn_name) -> None:
        super().__init__(conn_id=remote_config_conn_id)
        self.remote_config_conn_id = remote_config_conn_id

    @staticmethod
    def _module_endpoint(client: str, module: str) -> str:
        client = path_segment(require_text("client", client))
        module = path_segment(require_text("module", module))
        return f"/clients/{client}/modules/{module}"

    def get_module(self, client: str, module: str) -> dict[str, Any]:
        """Return the module document: ``settings``, ``revision``, ``updated_by`` and ``change_key``."""
        endpoint = self._module_endpoint(client, module)
        document = self.request_json("GET", endpoint)
        require_field(document, "settings", (dict,), system=self.system, method="GET", endpoint=endpoint)
        return document

    def put_module(
        self,
        client: str,
        module: str,
        settings: dict[str, Any],
        *,
        updated_by: str,
        change_key: str,
    ) -> dict[str, Any]:
        """
        Replace the module's settings and return the stored document.

        ``revision`` changes only if the settings did. The whole settings object is replaced, so
        pass every key the module needs, not only the changed ones.

        :param updated_by: who or what made the change, kept for the audit trail.
        :param change_key: id of the change, so a repeated write can be recognised.
        """
        if not isinstance(settings, dict):
            raise ValueError(f"settings must be a dict, got {type(settings).__name__}: {settings!r}")
        endpoint = self._module_endpoint(client, module)
        body = {
            "settings": settings,
            "updated_by": require_text("updated_by", updated_by),
            "change_key": require_text("change_key", change_key),
        }
        document = self.request_json("PUT", endpoint, json=body)
        require_field(document, "settings", (dict,), system=self.system, method="PUT", endpoint=endpoint)
        return document
