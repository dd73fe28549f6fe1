"""The "before" state of every stand-in system, written into a fresh state file.

Everything here is deterministic, so two resets give byte-identical state apart from
timestamps taken from the clock.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

from vh_cutover.rehearsal.catalog import CLIENT_IDS, FTT_DOMAINS, MODULE_IDS

DEFAULT_JOB_DURATION_SECONDS = 3.0

FTT_INITIAL: dict[str, dict[str, str]] = {
    "test": {"version": "5.0.0", "content_revision": "2024-04-new"},
    "prod": {"version": "4.2.0", "content_revision": "2024-03-old"},
}

TEST_PTA_RECORD_COUNT = 37
SERVICES_INITIAL: dict[str, str] = {"vh-backend": "2024.05.14"}
OTA_RELEASES_INITIAL: tuple[tuple[str, str], ...] = (("wandechu_2_0", "2.7.0"),)

DEVICE_MODEL = "DW220"
DEVICE_HARDWARE_VERSION = "V2.0"
NEWEST_FIRMWARE = "2.6.0"

# Firmware versions below 2.6.0, in the order they are handed out inside each group.
_ONLINE_OLD_FIRMWARE = ("2.5.1", "2.4.0", "2.3.2", "2.2.5")
_OFFLINE_LEGACY_FIRMWARE = ("2.0.0", "2.1.0", "2.1.3", "2.2.0", "2.2.5", "2.3.0", "2.3.2")
_OFFLINE_RECENT_FIRMWARE = ("2.4.0", "2.4.2", "2.5.0", "2.5.1", "2.4.0", "2.5.1")

# (online, firmware versions cycled, device count): 30 online, 91 offline, 86 below 2.6.0,
# and 76 of the 82 offline devices below 2.6.0 (92.7 %) on 2.3.x or older.
_FLEET_GROUPS: tuple[tuple[bool, tuple[str, ...], int], ...] = (
    (True, _ONLINE_OLD_FIRMWARE, 4),
    (True, (NEWEST_FIRMWARE,), 26),
    (False, _OFFLINE_LEGACY_FIRMWARE, 76),
    (False, _OFFLINE_RECENT_FIRMWARE, 6),
    (False, (NEWEST_FIRMWARE,), 9),
)

# Software ships with a firmware line; the newest software is 3.0.0.
_SOFTWARE_BY_FIRMWARE_LINE: dict[str, str] = {
    "2.0": "1.8.0",
    "2.1": "2.0.1",
    "2.2": "2.2.0",
    "2.3": "2.4.3",
    "2.4": "2.6.0",
    "2.5": "2.8.1",
    "2.6": "3.0.0",
}

# Spreads the groups over the id range; 37 is coprime with 121, so this is a permutation.
_DEVICE_ID_STRIDE = 37

_PTA_FIRST_CREATED_AT = datetime(2024, 4, 3, 2, 0, tzinfo=timezone.utc)
_PTA_SPACING = timedelta(hours=31)
# Most PTA data on the test environment belongs to the company's own test accounts.
_PTA_INTERNAL_USERS = 30


def fleet_rows() -> list[dict[str, object]]:
    """Build the 121 DW220 devices of the initial fleet, ordered by device id."""
    plain: list[tuple[bool, str]] = []
    for online, firmware_cycle, count in _FLEET_GROUPS:
        plain.extend((online, firmware_cycle[i % len(firmware_cycle)]) for i in range(count))

    total = len(plain)
    rows: list[dict[str, object]] = []
    for position in range(total):
        online, firmware = plain[(position * _DEVICE_ID_STRIDE) % total]
        firmware_line = firmware.rsplit(".", 1)[0]
        rows.append(
            {
                "position": position,
                "device_id": f"DW220-{position + 1:05d}",
                "model": DEVICE_MODEL,
                "firmware_version": firmware,
                "software_version": _SOFTWARE_BY_FIRMWARE_LINE[firmware_line],
                "online": online,
                "household": True,
                "admin_bound": True,
                "hardware_version": DEVICE_HARDWARE_VERSION,
            }
        )
    return rows


def initial_virtual_human_settings(client: str) -> dict[str, str]:
    """Return a client's initial ``virtual_human`` settings, pointing at the FTT test environment."""
    return {"domain": FTT_DOMAINS["test"], "environment": "test", "app_id": f"{client}-vh"}


def initial_settings() -> dict[str, object]:
    """Return the initial control settings."""
    return {"job_duration_seconds": DEFAULT_JOB_DURATION_SECONDS, "failing_services": []}


def seed_initial_state(conn: sqlite3.Connection, now: float) -> None:
    """Insert the initial state into empty tables; the caller owns the transaction."""
    for environment, facts in FTT_INITIAL.items():
        conn.execute(
            "INSERT INTO ftt_environments (environment, version, content_revision) VALUES (?, ?, ?)",
            (environment, facts["version"], facts["content_revision"]),
        )

    for index in range(TEST_PTA_RECORD_COUNT):
        if index < _PTA_INTERNAL_USERS:
            user_id = f"ftt-tester-{index + 1:02d}"
        else:
            user_id = f"user-{index + 1:04d}"
        created_at = _PTA_FIRST_CREATED_AT + index * _PTA_SPACING
        conn.execute(
            "INSERT INTO pta_records (environment, user_id, created_at) VALUES ('test', ?, ?)",
            (user_id, created_at.timestamp()),
        )

    for client in CLIENT_IDS:
        for module in MODULE_IDS:
            conn.execute("INSERT INTO gray_rules (client, module) VALUES (?, ?)", (client, module))
            settings = initial_virtual_human_settings(client) if module == "virtual_human" else {}
            conn.execute(
                "INSERT INTO remote_config (client, module, settings, updated_at) VALUES (?, ?, ?, ?)",
                (client, module, json.dumps(settings, sort_keys=True), now),
            )

    for service, version in SERVICES_INITIAL.items():
        conn.execute("INSERT INTO services (service, deployed_version) VALUES (?, ?)", (service, version))

    conn.executemany(
        "INSERT INTO devices (position, device_id, model, firmware_version, software_version, online,"
        " household, admin_bound, hardware_version) VALUES (:position, :device_id, :model,"
        " :firmware_version, :software_version, :online, :household, :admin_bound, :hardware_version)",
        fleet_rows(),
    )

    conn.executemany("INSERT INTO ota_releases (product, version) VALUES (?, ?)", OTA_RELEASES_INITIAL)

    for key, value in initial_settings().items():
        conn.execute("INSERT INTO settings (key, value) VALUES (?, ?)", (key, json.dumps(value)))
