"""Hook for the device fleet service that lists the kitchen devices of one model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vh_cutover.exceptions import FleetPagingError
from vh_cutover.hooks.base import CutoverHttpHook, require_field, require_text

MAX_PAGE_SIZE = 100


class DeviceFleetHook(CutoverHttpHook):
    """
    List the devices of one model, page by page.

    :param fleet_conn_id: connection of the device fleet service.
    """

    conn_name_attr = "fleet_conn_id"
    default_conn_name = "vh_device_fleet"
    hook_name = "Virtual-human device fleet"
    system = "device_fleet"
    test_endpoint = "/devices?model=DW220&page=1&page_size=1"

    def __init__(self, fleet_conn_id: str = default_conn_name) -> None:
        super().__init__(conn_id=fleet_conn_id)
        self.fleet_conn_id = fleet_conn_id

    def _read_page(self, model: str, page: int, page_size: int) -> tuple[list[dict[str, Any]], int]:
        params = {"model": model, "page": page, "page_size": page_size}
        document = self.request_json("GET", "/devices", params=params)

        items = require_field(document, "items", (list,), system=self.system, method="GET", endpoint="/devices")
        total = require_field(document, "total", (int,), system=self.system, method="GET", endpoint="/devices")
        echoed_page = document.get("page")
        if echoed_page != page:
            raise FleetPagingError(f"fleet returned page {echoed_page!r} when page {page} of model {model!r} was requested")
        if total < 0:
            raise FleetPagingError(f"fleet reported a negative total {total} for model {model!r}")
        return items, total

    def iter_devices(self, model: str, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """
        Yield every device of ``model``, reading pages until ``total`` devices were read.

        :param model: device model, e.g. ``DW220``.
        :param page_size: devices per page, 1 to 100.
        :raises FleetPagingError: when a page is short or too long, the total changes between pages,
            a device id repeats, or a device of another model appears. A fleet that changes while
            it is read cannot give correct figures, so the caller should read it again.
        """
        require_text("model", model)
        if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be an integer from 1 to {MAX_PAGE_SIZE}, got {page_size!r}")

        seen_ids: set[str] = set()
        expected_total: int | None = None
        page = 1
        while expected_total is None or len(seen_ids) < expected_total:
            items, total = self._read_page(model, page, page_size)

            if expected_total is None:
                expected_total = total
            elif total != expected_total:
                raise FleetPagingError(
                    f"fleet total for model {model!r} changed from {expected_total} to {total} at page {page}"
                )
            expected_items = min(page_size, expected_total - len(seen_ids))
            if len(items) != expected_items:
                raise FleetPagingError(
                    f"fleet page {page} of model {model!r} has {len(items)} devices, expected {expected_items} "
                    f"(page_size={page_size} total={expected_total} read={len(seen_ids)})"
                )

            for item in items:
                device_id = item.get("device_id") if isinstance(item, dict) else None
                if not isinstance(device_id, str) or device_id in seen_ids:
                    raise FleetPagingError(f"fleet page {page} has a missing or repeated device_id: {device_id!r}")
                if item.get("model") != model:
                    raise FleetPagingError(
                        f"fleet page {page} lists device {device_id!r} of model {item.get('model')!r}, expected {model!r}"
                    )
                seen_ids.add(device_id)
                yield item
            page += 1

        self.log.info("fleet read model=%s devices=%d pages=%d", model, len(seen_ids), page - 1)
