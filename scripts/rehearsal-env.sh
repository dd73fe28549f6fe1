# Environment of a rehearsal Airflow: sourced by scripts/run.sh and by the end-to-end tests.
#
# Inputs (all optional): AIRFLOW_HOME, VH_API_PORT (default 8080).
# Everything lives under AIRFLOW_HOME, so deleting that folder starts a rehearsal from scratch.

VH_ROOT=${VH_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
export AIRFLOW_HOME=${AIRFLOW_HOME:-$VH_ROOT/.airflow}
export VH_API_PORT=${VH_API_PORT:-8080}
mkdir -p "$AIRFLOW_HOME"

export AIRFLOW__CORE__DAGS_FOLDER=$VH_ROOT/dags
export AIRFLOW__CORE__PLUGINS_FOLDER=$VH_ROOT/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__API__PORT=$VH_API_PORT
# Loopback only: the stand-ins' control API under /rehearsal has no authentication.
export AIRFLOW__API__HOST=127.0.0.1
export AIRFLOW__API__BASE_URL=http://localhost:$VH_API_PORT
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL=http://127.0.0.1:$VH_API_PORT/execution/
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=admin:admin,wangyu:admin,huangjingwei:user,chenanqi:user,luyiye:user,dingjian:user,luyuanwei:user,chenjian:user,suyingu:user
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=${AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL:-30}
export PYTHONPATH=$VH_ROOT/plugins${PYTHONPATH:+:$PYTHONPATH}

# The stand-ins are served by the api-server under /rehearsal only because of this variable.
export VH_REHEARSAL=true
export VH_REHEARSAL_DB=$AIRFLOW_HOME/rehearsal.sqlite3
if [ -z "${VH_CUTOVER_CONTACTS:-}" ] && [ ! -f "$VH_ROOT/config/contacts.yaml" ]; then
  export VH_CUTOVER_CONTACTS=$VH_ROOT/config/contacts.example.yaml
fi

# One Airflow connection per outside system and chat robot, all pointing at the stand-ins.
source "$VH_ROOT/scripts/rehearsal-connections.sh"
vh_rehearsal_connections "http://127.0.0.1:$VH_API_PORT/rehearsal" "$AIRFLOW_HOME"
