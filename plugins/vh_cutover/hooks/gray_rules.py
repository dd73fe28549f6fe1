"""Hook for the gray-release rule service that hides a client module below a minimum app version."""

from __future__ import annotations

from typing import Any

from vh_cutover.hooks.base import CutoverHttpHook, path_segment, require_field, require_text


class GrayRuleHook(CutoverHttpHook):
    """
    Read, write and evaluate the gray-release rule of one client module.

    :param gray_rule_conn_id: connection of the gray-rule service.
    """

    conn_name_attr = "gray_rule_conn_id"
    default_conn_name = "vh_gray_rules"
    hook_name = "Virtual-human gray-release rules"
    system = "gray_rules"
    test_endpoint = "/rules/wandechu_app/virtual_human"

    def __init__(self, gray_rule_conn_id: str = default_conn_name) -> None:
        super().__init__(conn_id=gray_rule_conn_id)
        self.gray_rule_conn_id = gray_rule_conn_id

    @staticmethod
    def _rule_endpoint(client: str, module: str) -> str:
        client = path_segment(require_text("client", client))
        module = path_segment(require_text("module", module))
        return f"/rules/{client}/{module}"

    def get_rule(self, client: str, module: str) -> dict[str, Any]:
        """Return the rule: ``min_version`` (``None`` when the module is visible to all) and ``revision``."""
        endpoint = self._rule_endpoint(client, module)
        rule = self.request_json("GET", endpoint)
        require_field(rule, "min_version", (str, type(None)), system=self.system, method="GET", endpoint=endpoint)
        return rule

    def put_rule(
        self,
        client: str,
        module: str,
        min_version: str | None,
        *,
        updated_by: str,
        change_key: str,
    ) -> dict[str, Any]:
        """
        Store the rule and return it as stored. ``revision`` changes only if ``min_version`` did.

        :param min_version: clients below this ``x.y.z`` version do not see the module. ``None``
            removes the restriction.
        :param updated_by: who or what made the change, kept for the audit trail.
        :param change_key: id of the change, so a repeated write can be recognised.
        """
        if min_version is not None:
            require_text("min_version", min_version)
        endpoint = self._rule_endpoint(client, module)
        body = {
            "min_version": min_version,
            "updated_by": require_text("updated_by", updated_by),
            "change_key": require_text("change_key", change_key),
        }
        rule = self.request_json("PUT", endpoint, json=body)
        require_field(rule, "min_version", (str, type(None)), system=self.system, method="PUT", endpoint=endpoint)
        return rule

    def evaluate(self, client: str, module: str, version: str) -> bool:
        """Return whether the current rule shows ``module`` to ``client`` at app ``version``."""
        params = {
            "client": require_text("client", client),
            "module": require_text("module", module),
            "version": require_text("version", version),
        }
        result = self.request_json("GET", "/evaluate", params=params)
        return require_field(result, "visible", (bool,), system=self.system, method="GET", endpoint="/evaluate")
