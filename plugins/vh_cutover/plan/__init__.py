"""The cutover plan as validated configuration."""

from vh_cutover.plan.loader import default_plan_path, load_plan
from vh_cutover.plan.models import CutoverPlan, parse_version

__all__ = ["CutoverPlan", "default_plan_path", "load_plan", "parse_version"]
