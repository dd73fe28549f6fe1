"""Paths, environment and parse-time records shared by the DAG integrity tests and their fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAG_FOLDER = ROOT / "dags"
CONTACTS_EXAMPLE = ROOT / "config" / "contacts.example.yaml"
PARSE_FIGURES = pytest.StashKey[dict[str, float]]()


def dag_environment() -> dict[str, str]:
    """Return the environment variables the DAG file needs to parse outside a deployment."""
    return {
        "VH_CUTOVER_CONTACTS": str(CONTACTS_EXAMPLE),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }


def record_parse_figure(config: pytest.Config, name: str, seconds: float) -> None:
    """Store a measured parse time for the terminal summary."""
    config.stash.setdefault(PARSE_FIGURES, {})[name] = seconds
