"""Identifiers and fixed facts shared by every stand-in: clients, modules, systems, domains."""

from __future__ import annotations

import re
from typing import Literal, get_args

ClientId = Literal["wandechu_app", "wandechu_2_0", "shadow_world"]
CLIENT_IDS: tuple[str, ...] = get_args(ClientId)
MODULE_IDS: tuple[str, ...] = ("virtual_human", "upgrade_prompt")
FttEnvironment = Literal["test", "prod"]
FTT_ENVIRONMENTS: tuple[str, ...] = get_args(FttEnvironment)

# System ids equal the Airflow connection ids without their "vh_" prefix.
SYSTEM_IDS: tuple[str, ...] = (
    "ftt_test",
    "ftt_prod",
    "gray_rules",
    "remote_config",
    "release_pipeline",
    "device_fleet",
    "ota",
    "chat",
)

# The stand-in SDK domains are only compared as strings, never resolved.
FTT_DOMAINS: dict[str, str] = {
    "test": "https://vh-test.ftt-rehearsal.example.com",
    "prod": "https://vh.ftt-rehearsal.example.com",
}

WRITE_METHODS: frozenset[str] = frozenset({"POST", "PUT", "PATCH", "DELETE"})

VERSION_PATTERN = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


def parse_version(version: str) -> tuple[int, int, int]:
    """Parse an ``x.y.z`` version into a comparable tuple.

    :raises ValueError: if the text is not three dot-separated non-negative integers.
    """
    match = VERSION_PATTERN.match(version)
    if match is None:
        raise ValueError(f"version must look like x.y.z, got {version!r}")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def ftt_system_id(environment: str) -> str:
    """Return the system id of an FTT environment, for example ``ftt_test``."""
    return f"ftt_{environment}"
