"""Fixtures of the DAG integrity tests: the DAG folder parsed once, and parse figures in the summary."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from dag_support import DAG_FOLDER, PARSE_FIGURES, dag_environment, record_parse_figure


@pytest.fixture(scope="module")
def dagbag(request: pytest.FixtureRequest) -> Iterator:
    """Parse the DAG folder once for all tests of a module."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in dag_environment().items():
            patch.setenv(name, value)

        from airflow.dag_processing.dagbag import DagBag

        started = time.perf_counter()
        bag = DagBag(str(DAG_FOLDER))
        record_parse_figure(request.config, "in-process DagBag", time.perf_counter() - started)
        yield bag


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    figures = config.stash.get(PARSE_FIGURES, {})
    if not figures:
        return
    terminalreporter.section("DAG parse time")
    for name, seconds in figures.items():
        terminalreporter.write_line(f"{name}: {seconds:.3f} s")
