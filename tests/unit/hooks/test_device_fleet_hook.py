"""Unit tests of DeviceFleetHook paging against a faked transport."""

from __future__ import annotations

import pytest

from vh_cutover.exceptions import FleetPagingError
from vh_cutover.hooks.device_fleet import DeviceFleetHook

FLEET_URL = "http://127.0.0.1:9/fleet"


def _devices(count: int, model: str = "DW220") -> list[dict]:
    return [{"device_id": f"dev-{index:03d}", "model": model, "online": index % 4 == 0} for index in range(count)]


def _page(items: list[dict], page: int, page_size: int, total: int) -> dict:
    return {"items": items, "page": page, "page_size": page_size, "total": total}


@pytest.fixture
def fleet(set_connection) -> DeviceFleetHook:
    set_connection("vh_device_fleet", FLEET_URL, "tok-fleet")
    return DeviceFleetHook()


def test_defaults():
    assert DeviceFleetHook().fleet_conn_id == "vh_device_fleet"
    assert DeviceFleetHook.conn_name_attr == "fleet_conn_id"


def test_reads_every_page(fleet, requests_mock):
    devices = _devices(121)
    requests_mock.get(
        f"{FLEET_URL}/devices",
        [
            {"json": _page(devices[:50], 1, 50, 121)},
            {"json": _page(devices[50:100], 2, 50, 121)},
            {"json": _page(devices[100:], 3, 50, 121)},
        ],
    )
    read = list(fleet.iter_devices("DW220", page_size=50))
    assert [device["device_id"] for device in read] == [device["device_id"] for device in devices]
    assert requests_mock.call_count == 3
    assert requests_mock.request_history[2].qs == {"model": ["dw220"], "page": ["3"], "page_size": ["50"]}


def test_empty_fleet_reads_one_page(fleet, requests_mock):
    requests_mock.get(f"{FLEET_URL}/devices", json=_page([], 1, 100, 0))
    assert list(fleet.iter_devices("DW220")) == []
    assert requests_mock.call_count == 1


def test_short_page_raises(fleet, requests_mock):
    devices = _devices(121)
    requests_mock.get(
        f"{FLEET_URL}/devices",
        [{"json": _page(devices[:100], 1, 100, 121)}, {"json": _page(devices[100:110], 2, 100, 121)}],
    )
    with pytest.raises(FleetPagingError, match="has 10 devices, expected 21"):
        list(fleet.iter_devices("DW220"))


def test_total_change_raises(fleet, requests_mock):
    devices = _devices(121)
    requests_mock.get(
        f"{FLEET_URL}/devices",
        [{"json": _page(devices[:100], 1, 100, 121)}, {"json": _page(devices[100:], 2, 100, 122)}],
    )
    with pytest.raises(FleetPagingError, match="changed from 121 to 122"):
        list(fleet.iter_devices("DW220"))


def test_repeated_device_raises(fleet, requests_mock):
    devices = _devices(4)
    requests_mock.get(
        f"{FLEET_URL}/devices",
        [{"json": _page(devices[:2], 1, 2, 4)}, {"json": _page(devices[1:3], 2, 2, 4)}],
    )
    with pytest.raises(FleetPagingError, match="dev-001"):
        list(fleet.iter_devices("DW220", page_size=2))


def test_wrong_page_echo_raises(fleet, requests_mock):
    requests_mock.get(f"{FLEET_URL}/devices", json=_page(_devices(2), 7, 2, 4))
    with pytest.raises(FleetPagingError, match="page 7"):
        list(fleet.iter_devices("DW220", page_size=2))


def test_other_model_raises(fleet, requests_mock):
    requests_mock.get(f"{FLEET_URL}/devices", json=_page(_devices(1, model="DW100"), 1, 100, 1))
    with pytest.raises(FleetPagingError, match="DW100"):
        list(fleet.iter_devices("DW220"))


@pytest.mark.parametrize("page_size", [0, 101, 2.5, True])
def test_rejects_bad_page_size(fleet, page_size):
    with pytest.raises(ValueError, match="page_size"):
        list(fleet.iter_devices("DW220", page_size=page_size))
