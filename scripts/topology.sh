#!/usr/bin/env bash
# Run the production topology of docker-compose.yaml natively on this host: Postgres metadata
# database, Redis broker, CeleryExecutor, and api-server, scheduler, dag-processor, triggerer
# and one Celery worker as separate processes.
#
#   scripts/topology.sh start     # create the database, migrate, start, wait until healthy
#   scripts/topology.sh status    # print processes and health, exit 1 if a component is down
#   scripts/topology.sh stop      # stop every component's process group and wait for it
#   scripts/topology.sh reset     # stop, drop the database and delete the state directory
#
# Each component runs in its own process group (setsid) with its pid file and log under
# $VH_TOPOLOGY_STATE_DIR. `source $VH_TOPOLOGY_STATE_DIR/env.sh` gives a shell the same
# configuration, for example to run `airflow dags list` against this topology.
#
# Settings (environment, with defaults):
#   VH_TOPOLOGY_STATE_DIR     <repo>/.airflow/topology   AIRFLOW_HOME, pid files, logs, secrets
#   VH_TOPOLOGY_PORT          8180        api-server port on 127.0.0.1
#   VH_TOPOLOGY_DB            vh_cutover_topology        Postgres database (created if missing)
#   VH_TOPOLOGY_PG_HOST/_PG_PORT/_PG_USER   127.0.0.1 / 5432 / postgres (trust authentication)
#   VH_TOPOLOGY_REDIS_URL     redis://127.0.0.1:6379/5   Celery broker
#   VH_TOPOLOGY_AUTH_MANAGER  simple      simple or fab; fab runs docker/airflow-init.sh users
#   VH_TOPOLOGY_USERS         admin:admin,wangyu:admin,... (simple auth manager users)
#   VH_TOPOLOGY_DAGS_FOLDER   <repo>/dags
#   VH_TOPOLOGY_PLUGINS_FOLDER <repo>/plugins
#   VH_TOPOLOGY_PYTHON_BIN    <repo>/.venv/bin           where `airflow` and `celery` live
#   VH_TOPOLOGY_START_TIMEOUT 180         seconds to wait for every component to be healthy
#   VH_TOPOLOGY_STOP_TIMEOUT  60          seconds to wait after SIGTERM before SIGKILL
#   VH_TOPOLOGY_LOG_SERVER_PORT / _TRIGGER_LOG_SERVER_PORT   8893 / 8894
#   VH_REHEARSAL              passed through; when true, every vh_* connection not already
#                             set as AIRFLOW_CONN_* points at the stand-ins of this api-server.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

state_dir="${VH_TOPOLOGY_STATE_DIR:-${repo_root}/.airflow/topology}"
port="${VH_TOPOLOGY_PORT:-8180}"
database="${VH_TOPOLOGY_DB:-vh_cutover_topology}"
pg_host="${VH_TOPOLOGY_PG_HOST:-127.0.0.1}"
pg_port="${VH_TOPOLOGY_PG_PORT:-5432}"
pg_user="${VH_TOPOLOGY_PG_USER:-postgres}"
redis_url="${VH_TOPOLOGY_REDIS_URL:-redis://127.0.0.1:6379/5}"
auth_manager="${VH_TOPOLOGY_AUTH_MANAGER:-simple}"
users="${VH_TOPOLOGY_USERS:-admin:admin,wangyu:admin,huangjingwei:user,chenanqi:user,luyiye:user,dingjian:user,luyuanwei:user,chenjian:user,suyingu:user}"
dags_folder="${VH_TOPOLOGY_DAGS_FOLDER:-${repo_root}/dags}"
plugins_folder="${VH_TOPOLOGY_PLUGINS_FOLDER:-${repo_root}/plugins}"
python_bin="${VH_TOPOLOGY_PYTHON_BIN:-${repo_root}/.venv/bin}"
start_timeout="${VH_TOPOLOGY_START_TIMEOUT:-180}"
stop_timeout="${VH_TOPOLOGY_STOP_TIMEOUT:-60}"
log_server_port="${VH_TOPOLOGY_LOG_SERVER_PORT:-8893}"
trigger_log_server_port="${VH_TOPOLOGY_TRIGGER_LOG_SERVER_PORT:-8894}"

components=(api-server scheduler dag-processor triggerer worker)
run_dir="${state_dir}/run"
log_dir="${state_dir}/logs"
airflow_home="${state_dir}/home"
base_url="http://127.0.0.1:${port}"

# The connection ids of the cutover's hooks and the stand-in prefix that plays each system.
declare -A rehearsal_prefixes=(
    [vh_ftt_test]=/ftt/test [vh_ftt_prod]=/ftt/prod [vh_gray_rules]=/gray-rules
    [vh_remote_config]=/remote-config [vh_release_pipeline]=/releases
    [vh_device_fleet]=/fleet [vh_ota]=/ota [vh_chat]=/chat
)

log() {
    printf '%s topology: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

fail() {
    log "ERROR $*"
    exit 1
}

# Print a secret stored under the state directory, generating it on first use.
secret() {
    local file="${state_dir}/secrets/$1"
    if [[ ! -s "${file}" ]]; then
        mkdir -p "${state_dir}/secrets"
        chmod 700 "${state_dir}/secrets"
        if [[ "$1" == fernet_key ]]; then
            head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '\n' > "${file}"
        else
            head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '\n' > "${file}"
        fi
        chmod 600 "${file}"
    fi
    cat "${file}"
}

auth_manager_class() {
    case "${auth_manager}" in
        simple) echo "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager" ;;
        fab) echo "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager" ;;
        *) fail "invalid VH_TOPOLOGY_AUTH_MANAGER=${auth_manager}; expected simple or fab" ;;
    esac
}

# Write env.sh with the whole configuration; every command of this script sources it.
write_env_file() {
    local db_url="postgresql+psycopg2://${pg_user}@${pg_host}:${pg_port}/${database}"
    local manager
    manager="$(auth_manager_class)"
    mkdir -p "${state_dir}" "${run_dir}" "${log_dir}" "${airflow_home}"

    {
        echo "# Generated by scripts/topology.sh; source it to use this topology's Airflow."
        printf 'export PATH=%q:"$PATH"\n' "${python_bin}"
        printf 'export AIRFLOW_HOME=%q\n' "${airflow_home}"
        printf 'export AIRFLOW__CORE__DAGS_FOLDER=%q\n' "${dags_folder}"
        printf 'export AIRFLOW__CORE__PLUGINS_FOLDER=%q\n' "${plugins_folder}"
        printf 'export AIRFLOW__CORE__EXECUTOR=CeleryExecutor\n'
        printf 'export AIRFLOW__CORE__LOAD_EXAMPLES=False\n'
        printf 'export AIRFLOW__CORE__AUTH_MANAGER=%q\n' "${manager}"
        printf 'export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=%q\n' "${users}"
        printf 'export AIRFLOW__CORE__FERNET_KEY=%q\n' "$(secret fernet_key)"
        printf 'export AIRFLOW__CORE__EXECUTION_API_SERVER_URL=%q\n' "${base_url}/execution/"
        printf 'export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=%q\n' "${db_url}"
        printf 'export AIRFLOW__CELERY__BROKER_URL=%q\n' "${redis_url}"
        printf 'export AIRFLOW__CELERY__RESULT_BACKEND=%q\n' "db+postgresql://${pg_user}@${pg_host}:${pg_port}/${database}"
        printf 'export AIRFLOW__CELERY__WORKER_CONCURRENCY=%q\n' "${AIRFLOW__CELERY__WORKER_CONCURRENCY:-4}"
        printf 'export AIRFLOW__API__BASE_URL=%q\n' "${base_url}"
        printf 'export AIRFLOW__API__SECRET_KEY=%q\n' "$(secret api_secret_key)"
        printf 'export AIRFLOW__API_AUTH__JWT_SECRET=%q\n' "$(secret jwt_secret)"
        # Other Airflow instances on this host use the default log server ports 8793 and 8794.
        printf 'export AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=%q\n' "${log_server_port}"
        printf 'export AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=%q\n' "${trigger_log_server_port}"
        if [[ -n "${VH_REHEARSAL:-}" ]]; then
            printf 'export VH_REHEARSAL=%q\n' "${VH_REHEARSAL}"
        fi
        if [[ "${VH_REHEARSAL:-}" == true ]]; then
            local conn_id variable
            for conn_id in "${!rehearsal_prefixes[@]}"; do
                variable="AIRFLOW_CONN_${conn_id^^}"
                if [[ -z "${!variable:-}" ]]; then
                    printf 'export %s=%q\n' "${variable}" \
                        "{\"conn_type\": \"http\", \"host\": \"${base_url}/rehearsal${rehearsal_prefixes[${conn_id}]}\", \"password\": \"${VH_REHEARSAL_TOKEN:-rehearsal}\"}"
                fi
            done
        fi
    } > "${state_dir}/env.sh"
    chmod 600 "${state_dir}/env.sh"
}

psql_admin() {
    psql --host="${pg_host}" --port="${pg_port}" --username="${pg_user}" --dbname=postgres \
        --no-psqlrc --quiet --tuples-only --no-align --set=ON_ERROR_STOP=1 "$@"
}

create_database() {
    local exists
    exists="$(psql_admin --command="SELECT 1 FROM pg_database WHERE datname = '${database}'")" \
        || fail "cannot reach Postgres at ${pg_host}:${pg_port} as ${pg_user}; is it running?"
    if [[ "${exists}" != 1 ]]; then
        psql_admin --command="CREATE DATABASE \"${database}\""
        log "database created: name=${database}"
    fi
}

pid_of() {
    local file="${run_dir}/$1.pid"
    [[ -s "${file}" ]] && cat "${file}"
}

# True while any process of the component's process group is alive.
is_running() {
    local pid
    pid="$(pid_of "$1")" || return 1
    kill -0 -- "-${pid}" 2>/dev/null
}

start_component() {
    local name="$1"
    shift
    if is_running "${name}"; then
        log "already running: component=${name} pgid=$(pid_of "${name}")"
        return
    fi

    # setsid makes the component the leader of a new process group whose id is its pid, so
    # stop can signal the component together with every child it forks.
    setsid "$@" >> "${log_dir}/${name}.log" 2>&1 < /dev/null &
    local pid=$!
    echo "${pid}" > "${run_dir}/${name}.pid"
    # The forked shell becomes its own group leader only once it has exec'd setsid, so a check
    # right after the fork can still see the parent's group: poll for up to about a second.
    local pgid attempt
    for attempt in $(seq 1 20); do
        pgid="$(ps -o pgid= -p "${pid}" | tr -d ' ')"
        [[ -z "${pgid}" || "${pgid}" == "${pid}" ]] && break
        sleep 0.05
    done
    if [[ -n "${pgid}" && "${pgid}" != "${pid}" ]]; then
        fail "component ${name} (pid ${pid}) did not get its own process group (pgid ${pgid})"
    fi
    log "started: component=${name} pgid=${pid} log=${log_dir}/${name}.log"
}

api_health() {
    curl --silent --fail --max-time 5 "${base_url}/api/v2/monitor/health"
}

# Exit 0 when the health endpoint reports the metadatabase, scheduler, triggerer and
# dag-processor healthy.
health_is_complete() {
    python3 -c '
import json, sys
try:
    health = json.load(sys.stdin)
except ValueError:
    sys.exit(1)
parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
sys.exit(0 if all((health.get(p) or {}).get("status") == "healthy" for p in parts) else 1)
'
}

worker_answers_ping() {
    "${python_bin}/celery" --app airflow.providers.celery.executors.celery_executor.app \
        inspect ping --timeout 5 > /dev/null 2>&1
}

wait_until_healthy() {
    local deadline=$((SECONDS + start_timeout)) name
    while (( SECONDS < deadline )); do
        for name in "${components[@]}"; do
            if ! is_running "${name}"; then
                cmd_stop
                fail "component exited during start: ${name}; see ${log_dir}/${name}.log"
            fi
        done
        if api_health 2>/dev/null | health_is_complete && worker_answers_ping; then
            log "healthy: url=${base_url} auth_manager=${auth_manager}"
            return
        fi
        sleep 2
    done
    cmd_stop
    fail "not healthy after ${start_timeout}s; see the logs in ${log_dir}"
}

cmd_start() {
    command -v psql > /dev/null || fail "psql not found; install postgresql-client"
    [[ -x "${python_bin}/airflow" ]] || fail "airflow not found in ${python_bin}; set VH_TOPOLOGY_PYTHON_BIN"
    [[ -d "${dags_folder}" ]] || fail "DAGs folder not found: ${dags_folder}"
    if curl --silent --max-time 2 --output /dev/null "${base_url}/" && ! is_running api-server; then
        fail "port ${port} is already in use by another program; set VH_TOPOLOGY_PORT"
    fi

    write_env_file
    # shellcheck source=/dev/null
    source "${state_dir}/env.sh"
    create_database

    if [[ "${auth_manager}" == fab ]]; then
        # The same initialisation as the compose airflow-init service: migrate and create users.
        # Passwords come from VH_PASSWORD_<USERNAME>; connections from VH_CONNECTIONS_FILE if set.
        log "initialising: auth_manager=fab"
        bash "${repo_root}/docker/airflow-init.sh" >> "${log_dir}/init.log" 2>&1 \
            || fail "initialisation failed; see ${log_dir}/init.log"
    else
        log "migrating: database=${database}"
        airflow db migrate >> "${log_dir}/init.log" 2>&1 \
            || fail "airflow db migrate failed; see ${log_dir}/init.log"
    fi

    start_component api-server airflow api-server --port "${port}" --host 127.0.0.1 \
        --workers "${VH_TOPOLOGY_API_WORKERS:-1}"
    start_component scheduler airflow scheduler
    start_component dag-processor airflow dag-processor
    start_component triggerer airflow triggerer
    start_component worker airflow celery worker
    wait_until_healthy
}

stop_component() {
    local name="$1" pid
    pid="$(pid_of "${name}")" || return 0
    if kill -0 -- "-${pid}" 2>/dev/null; then
        kill -TERM -- "-${pid}" 2>/dev/null || true
        log "stopping: component=${name} pgid=${pid}"
    fi
}

cmd_stop() {
    local name pid deadline=$((SECONDS + stop_timeout))
    for name in "${components[@]}"; do
        stop_component "${name}"
    done

    for name in "${components[@]}"; do
        pid="$(pid_of "${name}")" || continue
        while kill -0 -- "-${pid}" 2>/dev/null && (( SECONDS < deadline )); do
            sleep 0.5
        done
        if kill -0 -- "-${pid}" 2>/dev/null; then
            log "still running after ${stop_timeout}s, killing: component=${name} pgid=${pid}"
            kill -KILL -- "-${pid}" 2>/dev/null || true
            while kill -0 -- "-${pid}" 2>/dev/null; do
                sleep 0.2
            done
        fi
        rm -f "${run_dir}/${name}.pid"
        log "stopped: component=${name}"
    done
}

cmd_status() {
    local name down=0 health
    for name in "${components[@]}"; do
        if is_running "${name}"; then
            printf '%-14s running  pgid=%s\n' "${name}" "$(pid_of "${name}")"
        else
            printf '%-14s stopped\n' "${name}"
            down=1
        fi
    done

    if health="$(api_health)"; then
        printf 'health         %s\n' "${health}"
        health_is_complete <<< "${health}" || down=1
    else
        printf 'health         unreachable: %s/api/v2/monitor/health\n' "${base_url}"
        down=1
    fi
    return "${down}"
}

cmd_reset() {
    cmd_stop
    psql_admin --command="DROP DATABASE IF EXISTS \"${database}\" WITH (FORCE)"
    log "database dropped: name=${database}"
    rm -rf "${state_dir}"
    log "state removed: dir=${state_dir}"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status)
        if [[ -f "${state_dir}/env.sh" ]]; then
            # shellcheck source=/dev/null
            source "${state_dir}/env.sh"
        fi
        cmd_status
        ;;
    reset) cmd_reset ;;
    *)
        echo "usage: $0 start|stop|status|reset" >&2
        exit 2
        ;;
esac
