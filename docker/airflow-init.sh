#!/usr/bin/env bash
# One-shot initialisation of the cutover's Airflow metadata database, run by the airflow-init
# service of docker-compose.yaml (and usable on any host with the same environment):
#   1. migrate the metadata database (under FAB this includes the FAB user tables);
#   2. under the FAB auth manager, create the users of docker/users.json (docker/init_users.py);
#   3. import the outside systems' connections from $VH_CONNECTIONS_FILE.
# Every step is idempotent, so the script runs again on each `docker-compose up`.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
users_file="${VH_USERS_FILE:-${script_dir}/users.json}"
connections_file="${VH_CONNECTIONS_FILE:-}"

# The connection ids that the cutover's hooks use. A connections file must define all of them.
required_connections=(
    vh_ftt_test vh_ftt_prod vh_gray_rules vh_remote_config
    vh_release_pipeline vh_device_fleet vh_ota vh_chat
)

log() {
    printf '%s airflow-init: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"
}

# .env.example marks every secret "change-me", so a deployment that still has one is not configured.
placeholder_secrets=()
for name in AIRFLOW__CORE__FERNET_KEY AIRFLOW__API_AUTH__JWT_SECRET AIRFLOW__API__SECRET_KEY \
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN $(compgen -e | grep '^VH_PASSWORD_' || true); do
    if [[ "${!name:-}" == *change-me* ]]; then
        placeholder_secrets+=("${name}")
    fi
done
if (( ${#placeholder_secrets[@]} > 0 )); then
    log "ERROR example secrets left in .env: ${placeholder_secrets[*]}." \
        "Generate a .env with fresh secrets: docker/new-env.sh > .env"
    exit 1
fi

# Check the connections file before touching the database, so a bad file changes nothing.
if [[ -n "${connections_file}" ]]; then
    if [[ ! -r "${connections_file}" ]]; then
        log "ERROR connections file not found or not readable: ${connections_file}." \
            "Copy docker/connections.example.json to config/connections.json and fill it in," \
            "or set VH_CONNECTIONS_FILE in .env."
        exit 1
    fi
    python - "${connections_file}" "${required_connections[@]}" <<'PY'
import json
import sys

path, required = sys.argv[1], sys.argv[2:]
try:
    with open(path, encoding="utf-8") as handle:
        defined = json.load(handle)
except json.JSONDecodeError as error:
    sys.exit(f"connections file {path} is not valid JSON: {error}")

missing = [conn_id for conn_id in required if conn_id not in defined]
if missing:
    sys.exit(f"connections file {path} is missing connection ids: {', '.join(missing)}")

# docker/connections.example.json marks every token REPLACE_WITH_..., and importing one would
# make the cutover call the real systems with an invalid token.
unfilled = sorted(
    conn_id
    for conn_id, fields in defined.items()
    if str(fields.get("password", "")).startswith("REPLACE_WITH")
)
if unfilled:
    sys.exit(f"connections file {path} still has example tokens for: {', '.join(unfilled)}")
PY
fi

log "step=migrate start"
airflow db migrate
log "step=migrate done"

auth_manager="${AIRFLOW__CORE__AUTH_MANAGER:-}"
if [[ "${auth_manager}" == *FabAuthManager ]]; then
    log "step=users auth_manager=fab users_file=${users_file}"
    python "${script_dir}/init_users.py" "${users_file}"
else
    log "step=users skipped: auth_manager=${auth_manager:-simple} takes its users from [core] simple_auth_manager_users"
fi

if [[ -z "${connections_file}" ]]; then
    log "step=connections skipped: VH_CONNECTIONS_FILE is empty"
    exit 0
fi
log "step=connections file=${connections_file}"
airflow connections import --overwrite "${connections_file}"
log "step=connections done"
