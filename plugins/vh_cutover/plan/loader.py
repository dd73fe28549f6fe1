"""Read the plan file named by ``VH_CUTOVER_PLAN`` (or the repository default) and validate it."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import ValidationError

from vh_cutover.exceptions import PlanConfigError
from vh_cutover.plan.models import CutoverPlan

# plugins/vh_cutover/plan/loader.py -> repository root (or /opt/airflow in the image).
PROJECT_ROOT = Path(__file__).resolve().parents[3]


def default_plan_path() -> Path:
    """Return the plan file to use: ``$VH_CUTOVER_PLAN`` or ``config/cutover-plan.yaml``."""
    return Path(os.environ.get("VH_CUTOVER_PLAN") or PROJECT_ROOT / "config" / "cutover-plan.yaml")


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"{location}: {item['msg']}")
    return "; ".join(lines)


def load_plan(path: str | os.PathLike[str] | None = None) -> CutoverPlan:
    """
    Load and validate a plan file.

    :param path: plan file; defaults to :func:`default_plan_path`.
    :raises PlanConfigError: when the file is missing, not YAML, or fails validation.
    """
    plan_path = Path(path) if path else default_plan_path()
    try:
        raw = yaml.safe_load(plan_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanConfigError(f"plan file not found: {plan_path} (set VH_CUTOVER_PLAN to its path)") from None
    except yaml.YAMLError as error:
        raise PlanConfigError(f"plan file {plan_path} is not valid YAML: {error}") from None

    if not isinstance(raw, dict):
        raise PlanConfigError(f"plan file {plan_path} must contain a mapping, got {type(raw).__name__}")
    try:
        return CutoverPlan.model_validate(raw)
    except ValidationError as error:
        raise PlanConfigError(f"plan file {plan_path} is invalid: {_describe(error)}") from None
