"""Hooks for the outside systems of the cutover, one per system, each with its own connection."""

from __future__ import annotations

from vh_cutover.hooks.base import AsyncCutoverHttpClient, ConnectionSettings, CutoverHttpHook
from vh_cutover.hooks.chat import ChatRobotHook
from vh_cutover.hooks.device_fleet import DeviceFleetHook
from vh_cutover.hooks.ftt import FttHook
from vh_cutover.hooks.gray_rules import GrayRuleHook
from vh_cutover.hooks.ota import OtaHook
from vh_cutover.hooks.release_pipeline import ReleasePipelineHook
from vh_cutover.hooks.remote_config import RemoteConfigHook

__all__ = [
    "AsyncCutoverHttpClient",
    "ChatRobotHook",
    "ConnectionSettings",
    "CutoverHttpHook",
    "DeviceFleetHook",
    "FttHook",
    "GrayRuleHook",
    "OtaHook",
    "ReleasePipelineHook",
    "RemoteConfigHook",
]
