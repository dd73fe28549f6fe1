#!/usr/bin/env bash
# The test command: installs what the suite needs, makes sure its services run, then runs pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh -m "not e2e").
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh
scripts/system-deps.sh
scripts/services.sh

# airflow standalone starts its components as `airflow ...` through PATH.
source .venv/bin/activate
export AIRFLOW_HOME=${AIRFLOW_HOME:-$PWD/.airflow-test}
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export VH_CUTOVER_CONTACTS=${VH_CUTOVER_CONTACTS:-$PWD/config/contacts.example.yaml}
mkdir -p "$AIRFLOW_HOME" reports
exec .venv/bin/python -m pytest -ra --durations=15 --junitxml=reports/junit.xml "$@"
