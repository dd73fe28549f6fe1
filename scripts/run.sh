#!/usr/bin/env bash
# Rehearsal: Airflow standalone (SQLite, LocalExecutor) with the stand-ins, UI on http://localhost:8080.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh
# shellcheck source=scripts/rehearsal-env.sh
source scripts/rehearsal-env.sh
source .venv/bin/activate

passwords=$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated
python3 scripts/seed_passwords.py "$passwords"

setsid airflow standalone > "$AIRFLOW_HOME/standalone.log" 2>&1 &
airflow_pid=$!
stop() {
  trap - EXIT INT TERM
  echo "Stopping Airflow (process group $airflow_pid)..."
  kill -TERM -- "-$airflow_pid" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$airflow_pid" 2>/dev/null || break; sleep 1; done
  kill -KILL -- "-$airflow_pid" 2>/dev/null || true
}
trap stop EXIT INT TERM

echo "Starting Airflow standalone in $AIRFLOW_HOME (log: $AIRFLOW_HOME/standalone.log)..."
for _ in $(seq 1 180); do
  if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
      "http://127.0.0.1:$VH_API_PORT/api/v2/monitor/health" > /dev/null 2>&1; then break; fi
  if ! kill -0 "$airflow_pid" 2>/dev/null; then echo "Airflow exited; see $AIRFLOW_HOME/standalone.log" >&2; exit 1; fi
  sleep 1
done

cat <<MSG

Airflow UI:   http://localhost:$VH_API_PORT
DAG:          vh_cutover_528 (5.28 虚拟人生产环境切换)
Board:        http://localhost:$VH_API_PORT/plugin/cutover-board (切换看板)
Stand-ins:    http://localhost:$VH_API_PORT/rehearsal/control/state

Log in as one of the plan's people (login: password); each gate only accepts its assigned users.
MSG
python3 scripts/seed_passwords.py --show "$passwords"
cat <<MSG

Play the vendor and the OTA push from another shell:
  curl -X POST http://localhost:$VH_API_PORT/rehearsal/control/ftt/upgrade -H 'Content-Type: application/json' -d '{"outcome": "succeed", "duration_seconds": 30}'
  curl -X POST http://localhost:$VH_API_PORT/rehearsal/control/ota/push -H 'Content-Type: application/json' -d '{"product": "wandechu_2_0", "version": "2.7.0"}'
Press Ctrl-C to stop.
MSG
wait "$airflow_pid"
