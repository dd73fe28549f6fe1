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
export AIRFLOW__API__BASE_URL=http://localhost:$VH_API_PORT
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL=http://localhost:$VH_API_PORT/execution/
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=admin:admin,wangyu:admin,huangjingwei:user,chenanqi:user,luyiye:user,dingjian:user,luyuanwei:user,chenjian:user,suyingu:user
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=${AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL:-30}
export PYTHONPATH=$VH_ROOT/plugins${PYTHONPATH:+:$PYTHONPATH}

# The stand-ins are served by the api-server under /rehearsal only because of this variable.
export VH_REHEARSAL=true
export VH_REHEARSAL_DB=$AIRFLOW_HOME/rehearsal.sqlite3
if [ ! -s "$AIRFLOW_HOME/rehearsal-token" ]; then
  (umask 077; python3 -c 'import secrets; print(secrets.token_urlsafe(24))' > "$AIRFLOW_HOME/rehearsal-token")
fi
export VH_REHEARSAL_TOKEN=$(cat "$AIRFLOW_HOME/rehearsal-token")

if [ -z "${VH_CUTOVER_CONTACTS:-}" ] && [ ! -f "$VH_ROOT/config/contacts.yaml" ]; then
  export VH_CUTOVER_CONTACTS=$VH_ROOT/config/contacts.example.yaml
fi

# One Airflow connection per outside system, all pointing at the stand-ins.
rehearsal_url=http://127.0.0.1:$VH_API_PORT/rehearsal
_vh_conn() {
  printf '{"conn_type": "http", "host": "%s%s", "password": "%s", "extra": {"timeout": 10, "max_retries": 4, "backoff_base": 0.5}}' \
    "$rehearsal_url" "$1" "$VH_REHEARSAL_TOKEN"
}
export AIRFLOW_CONN_VH_FTT_TEST=$(_vh_conn /ftt/test)
export AIRFLOW_CONN_VH_FTT_PROD=$(_vh_conn /ftt/prod)
export AIRFLOW_CONN_VH_GRAY_RULES=$(_vh_conn /gray-rules)
export AIRFLOW_CONN_VH_REMOTE_CONFIG=$(_vh_conn /remote-config)
export AIRFLOW_CONN_VH_RELEASE_PIPELINE=$(_vh_conn /releases)
export AIRFLOW_CONN_VH_DEVICE_FLEET=$(_vh_conn /fleet)
export AIRFLOW_CONN_VH_OTA=$(_vh_conn /ota)
# Group robots of the notifications: DingTalk (vh_chat), WeCom and Feishu, with signing secrets
# that the stand-ins check. E-mail (vh_smtp) is not used by the example contacts file.
if [ ! -s "$AIRFLOW_HOME/robot-secrets" ]; then
  (umask 077; python3 -c 'import secrets; print("SEC" + secrets.token_hex(16)); print(secrets.token_urlsafe(16))' > "$AIRFLOW_HOME/robot-secrets")
fi
export VH_REHEARSAL_CHAT_SECRET=$(sed -n 1p "$AIRFLOW_HOME/robot-secrets")
export VH_REHEARSAL_FEISHU_SECRET=$(sed -n 2p "$AIRFLOW_HOME/robot-secrets")
_vh_robot() {
  printf '{"conn_type": "http", "host": "%s%s", "password": "%s", "extra": {"timeout": 5, "secret": "%s"}}' \
    "$rehearsal_url" "$1" "$VH_REHEARSAL_TOKEN" "$2"
}
export AIRFLOW_CONN_VH_CHAT=$(_vh_robot /chat "$VH_REHEARSAL_CHAT_SECRET")
export AIRFLOW_CONN_VH_WECOM=$(_vh_robot /wecom "")
export AIRFLOW_CONN_VH_FEISHU=$(_vh_robot /feishu "$VH_REHEARSAL_FEISHU_SECRET")
unset -f _vh_robot
unset -f _vh_conn
