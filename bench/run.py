"""
Benchmark of the cutover project: DAG parse, stand-in latency and a whole rehearsal.

Run ``.venv/bin/python bench/run.py`` (or ``make bench``) from the repository root. The report
goes to ``reports/bench.md``, with a pass or fail per target of ``bench/targets.md``. The exit
status is 1 when a target fails or the rehearsal does not succeed. The rehearsal starts one
``airflow standalone`` on a free loopback port and takes a few minutes; ``--skip-rehearsal``
leaves it out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGETS_FILE = ROOT / "bench" / "targets.md"
DEFAULT_OUTPUT = ROOT / "reports" / "bench.md"
TARGET_ROW = re.compile(r"^\|\s*`(?P<metric>[a-z0-9_]+)`\s*\|\s*(?P<target>[^|]+?)\s*\|")
UPPER_BOUND = re.compile(r"^(?:≤|<=)\s*(?P<bound>[0-9]+(?:\.[0-9]+)?)$")

sys.path.insert(0, str(ROOT / "plugins"))

import measure  # noqa: E402  (bench/ is the script's own folder, so it is importable by name)


def read_targets(path: Path = TARGETS_FILE) -> dict[str, float | None]:
    """
    Read the metric rows of the targets table.

    :returns: the upper bound of each metric, or None for a metric reported without a target.
    :raises ValueError: on a target cell that is neither ``≤ number`` nor ``—``.
    """
    targets: dict[str, float | None] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = TARGET_ROW.match(line)
        if not row:
            continue
        cell = row["target"]
        if cell in ("—", "-"):
            targets[row["metric"]] = None
            continue
        bound = UPPER_BOUND.match(cell)
        if not bound:
            raise ValueError(f"{path}: invalid target {cell!r} for {row['metric']}: expected '≤ number' or '—'")
        targets[row["metric"]] = float(bound["bound"])
    return targets


def _machine() -> dict[str, str]:
    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return {
        "date (UTC)": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "commit": commit or "unknown",
        "CPU": f"{os.cpu_count()} × {model}",
        "load average at start (1/5/15 min)": load,
        "Python": platform.python_version(),
        "apache-airflow": importlib.metadata.version("apache-airflow"),
        "apache-airflow-providers-standard": importlib.metadata.version("apache-airflow-providers-standard"),
    }


def collect_metrics(results: dict[str, Any]) -> dict[str, float]:
    """Flatten the measurements into the metric names of the targets table."""
    metrics = {}
    if "parse" in results:
        metrics["parse_median_s"] = results["parse"]["dagbag_median_s"]
        metrics["parse_process_median_s"] = results["parse"]["process_median_s"]
        metrics["parse_peak_rss_mib"] = results["parse"]["peak_rss_mib"]
    if "stand_ins" in results:
        metrics["standin_get_p95_ms"] = results["stand_ins"]["get_p95_ms"]
        metrics["standin_put_p95_ms"] = results["stand_ins"]["put_p95_ms"]
    if "rehearsal" in results:
        metrics["rehearsal_wall_s"] = results["rehearsal"]["wall_s"]
        latencies = results["rehearsal"]["gate_to_next_task_s"].values()
        if latencies:
            metrics["gate_to_next_task_max_s"] = max(latencies)
        metrics["board_api_p95_ms"] = results["rehearsal"]["board_p95_ms"]
    return metrics


def verdicts(metrics: dict[str, float], targets: dict[str, float | None]) -> dict[str, str]:
    """Return ``pass``, ``fail``, ``info`` (no target) or ``not measured`` per metric of the targets table."""
    result = {}
    for metric, bound in targets.items():
        if metric not in metrics:
            result[metric] = "not measured"
        elif bound is None:
            result[metric] = "info"
        else:
            result[metric] = "pass" if metrics[metric] <= bound else "fail"
    return result


def render_report(results: dict[str, Any], metrics: dict[str, float], targets: dict[str, float | None],
                  outcome: dict[str, str], machine: dict[str, str], args: argparse.Namespace) -> str:
    """Render the Markdown report."""
    lines = ["# Benchmark report", "", "Written by `bench/run.py`; targets from `bench/targets.md`.", ""]
    lines += ["| | |", "|---|---|"] + [f"| {key} | {value} |" for key, value in machine.items()]
    lines += ["", f"Settings: {args.parse_runs} parses, {args.requests} requests per stand-in method"
              f"{', rehearsal skipped' if args.skip_rehearsal else ''}.", ""]

    lines += ["## Results", "", "| metric | value | target | verdict |", "|---|---|---|---|"]
    for metric, bound in targets.items():
        value = f"{metrics[metric]:.3f}" if metric in metrics else "—"
        target = "—" if bound is None else f"≤ {bound:g}"
        lines.append(f"| `{metric}` | {value} | {target} | {outcome[metric]} |")

    if "rehearsal" in results:
        rehearsal = results["rehearsal"]
        lines += ["", "## Rehearsal", "", f"Run state: **{rehearsal['run_state']}**.", "",
                  "| gate | answer → next task start (s) | asked again after an answer |", "|---|---|---|"]
        for gate, asked_again in rehearsal["gate_asked_again"].items():
            seconds = rehearsal["gate_to_next_task_s"].get(gate)
            shown = "—" if seconds is None else f"{seconds:.3f}"
            lines.append(f"| `{gate}` | {shown} | {asked_again} |")

    lines += ["", "## Notes", "",
              "- Each figure is one run of this script on the machine above; other processes on it "
              "(see the load average) slow every figure down.",
              "- Parse time is `DagBag(dags/)` alone, in a process that already imported Airflow's "
              "parse machinery, as the dag-processor does; the process time adds interpreter start "
              "and imports.",
              "- Stand-in latency is one client, one request at a time, so it shows service time, "
              "not throughput.",
              "- The rehearsal's FTT upgrade takes "
              f"{measure.FTT_UPGRADE_SECONDS:g} s and the OTA push is announced before the trigger; "
              f"the player looks for waiting gates every {measure.PLAYER_POLL_SECONDS:g} s and responds "
              "once the scheduler is done with the gate's parked try, so the wall time includes that "
              "wait once per gate.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure DAG parse, stand-in latency and a whole rehearsal.")
    parser.add_argument("--parse-runs", type=int, default=5, help="number of fresh-process DAG parses (default 5)")
    parser.add_argument("--requests", type=int, default=200,
                        help="requests per stand-in method, GET and PUT each (default 200)")
    parser.add_argument("--skip-rehearsal", action="store_true", help="leave out the Airflow standalone rehearsal")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="report file (default reports/bench.md)")
    args = parser.parse_args(argv)
    if args.parse_runs < 1 or args.requests < 1:
        parser.error("--parse-runs and --requests must be at least 1")

    targets = read_targets()
    machine = _machine()
    results: dict[str, Any] = {}

    print(f"bench: parsing the DAG folder {args.parse_runs} times...", flush=True)
    results["parse"] = measure.measure_parse(args.parse_runs)
    print(f"bench: timing {args.requests} GET and {args.requests} PUT requests to the stand-ins...", flush=True)
    results["stand_ins"] = measure.measure_stand_ins(args.requests)
    if not args.skip_rehearsal:
        print("bench: running a whole rehearsal on airflow standalone (a few minutes)...", flush=True)
        results["rehearsal"] = measure.measure_rehearsal()

    metrics = collect_metrics(results)
    outcome = verdicts(metrics, targets)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render_report(results, metrics, targets, outcome, machine, args), encoding="utf-8")
    args.output.with_suffix(".json").write_text(
        json.dumps({"machine": machine, "results": results, "metrics": metrics, "verdicts": outcome}, indent=2),
        encoding="utf-8",
    )

    for metric, verdict in outcome.items():
        value = f"{metrics[metric]:.3f}" if metric in metrics else "—"
        print(f"  {metric:<26} {value:>10}  {verdict}")
    print(f"bench: report written to {args.output}")

    failed = [metric for metric, verdict in outcome.items() if verdict == "fail"]
    rehearsal_failed = "rehearsal" in results and results["rehearsal"]["run_state"] != "success"
    return 1 if failed or rehearsal_failed else 0


if __name__ == "__main__":
    sys.exit(main())
