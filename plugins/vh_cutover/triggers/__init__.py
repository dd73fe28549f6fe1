"""Deferrable waits of the cutover: each polls one outside system until a final state or a deadline."""

from __future__ import annotations

from vh_cutover.triggers.ftt import FttUpgradeTrigger
from vh_cutover.triggers.ota import OtaPushTrigger
from vh_cutover.triggers.release_pipeline import ReleaseJobTrigger

__all__ = ["FttUpgradeTrigger", "OtaPushTrigger", "ReleaseJobTrigger"]
