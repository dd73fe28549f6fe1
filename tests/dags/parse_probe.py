"""Parse a DAG folder in a fresh process that may not reach any connection, variable or network.

Run as ``python tests/dags/parse_probe.py DAG_FOLDER OUTPUT_JSON``. Before Airflow is imported,
the probe removes every ``AIRFLOW_CONN_*`` and ``AIRFLOW_VAR_*`` variable from the environment,
makes socket connects and name lookups raise, and makes the Task SDK's and the core models'
connection and variable lookups raise. Each attempt is also recorded, so an attempt that the
DAG file catches and ignores still shows up in the result.

The result file contains the DagBag's import errors, the DAG ids and task counts, the recorded
attempts, the parse duration (``DagBag(dag_folder)`` as a whole, and Airflow's own per-file
figure) and the process's peak RSS. The DAG integrity test and ``bench/run.py`` both use it.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ATTEMPTS: list[dict[str, str]] = []


class IsolationViolation(RuntimeError):
    """Raised when parsing tries to reach a connection, a variable or the network."""


def _forbid(kind: str, name: str):
    def _blocked(*args: Any, **kwargs: Any) -> Any:
        target = repr(args[1:] if kind == "network" and args and isinstance(args[0], socket.socket) else args)
        ATTEMPTS.append({"kind": kind, "call": name, "target": target[:200],
                         "stack": "".join(traceback.format_stack(limit=8)[:-1])})
        raise IsolationViolation(f"parsing must not use {kind}: {name}{target}")

    return _blocked


def _scrub_environment() -> list[str]:
    removed = sorted(name for name in os.environ if name.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_")))
    for name in removed:
        del os.environ[name]
    return removed


def _block_network() -> None:
    socket.socket.connect = _forbid("network", "socket.connect")
    socket.socket.connect_ex = _forbid("network", "socket.connect_ex")
    socket.create_connection = _forbid("network", "socket.create_connection")
    for lookup in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
        setattr(socket, lookup, _forbid("network", f"socket.{lookup}"))


def _block_connections_and_variables() -> None:
    # The Task SDK's public lookups (BaseHook.get_connection, Connection.get, Variable.get) import
    # these private functions from the module at call time, so replacing them covers every caller.
    from airflow.sdk.execution_time import context as sdk_context

    for name in ("_get_connection", "_async_get_connection"):
        setattr(sdk_context, name, _forbid("connection", f"airflow.sdk.execution_time.context.{name}"))
    for name in ("_get_variable", "_get_variable_keys"):
        setattr(sdk_context, name, _forbid("variable", f"airflow.sdk.execution_time.context.{name}"))

    from airflow.models.connection import Connection
    from airflow.models.variable import Variable

    Connection.get_connection_from_secrets = classmethod(_forbid("connection", "Connection.get_connection_from_secrets"))
    Variable.get = classmethod(_forbid("variable", "Variable.get"))


def probe(dag_folder: Path) -> dict[str, Any]:
    """Parse ``dag_folder`` under the guards and return what happened."""
    removed = _scrub_environment()
    _block_network()
    _block_connections_and_variables()

    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(str(dag_folder))
    elapsed = time.perf_counter() - started

    return {
        "dag_folder": str(dag_folder),
        "removed_environment": removed,
        "import_errors": dict(bag.import_errors),
        "dags": {dag_id: len(dag.tasks) for dag_id, dag in bag.dags.items()},
        "attempts": ATTEMPTS,
        "dagbag_seconds": elapsed,
        "file_seconds": {stat.file: stat.duration.total_seconds() for stat in bag.dagbag_stats},
        # ru_maxrss is in kibibytes on Linux.
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: parse_probe.py DAG_FOLDER OUTPUT_JSON\n")
        return 2
    result = probe(Path(argv[0]))
    Path(argv[1]).write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
