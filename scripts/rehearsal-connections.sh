# The rehearsal's Airflow connections: every outside system and chat robot at the stand-ins.
# Sourced by scripts/rehearsal-env.sh (standalone) and scripts/topology.sh (native production shape).
#
#   vh_rehearsal_connections URL SECRETS_DIR
#
# URL is where the api-server serves the stand-ins, e.g. http://127.0.0.1:8080/rehearsal. The
# stand-ins' token and the robots' signing secrets are generated once into SECRETS_DIR and reused.
# Exports VH_REHEARSAL_TOKEN, VH_REHEARSAL_CHAT_SECRET, VH_REHEARSAL_FEISHU_SECRET and one
# AIRFLOW_CONN_VH_* per connection, replacing any set before: a rehearsal reaches no real system.

# Print one HTTP connection as Airflow's JSON form: host URL, password, extra (a JSON object).
_vh_http_connection() {
  printf '{"conn_type": "http", "host": "%s", "password": "%s", "extra": %s}' "$1" "$2" "$3"
}

vh_rehearsal_connections() {
  local url=$1 secrets=$2
  mkdir -p "$secrets"
  if [ ! -s "$secrets/rehearsal-token" ]; then
    (umask 077; python3 -c 'import secrets; print(secrets.token_urlsafe(24))' > "$secrets/rehearsal-token")
  fi
  # DingTalk and Feishu robots sign their messages, and the stand-ins check the signatures.
  if [ ! -s "$secrets/robot-secrets" ]; then
    (umask 077; python3 -c 'import secrets; print("SEC" + secrets.token_hex(16)); print(secrets.token_urlsafe(16))' > "$secrets/robot-secrets")
  fi
  export VH_REHEARSAL_TOKEN VH_REHEARSAL_CHAT_SECRET VH_REHEARSAL_FEISHU_SECRET
  VH_REHEARSAL_TOKEN=$(cat "$secrets/rehearsal-token")
  VH_REHEARSAL_CHAT_SECRET=$(sed -n 1p "$secrets/robot-secrets")
  VH_REHEARSAL_FEISHU_SECRET=$(sed -n 2p "$secrets/robot-secrets")

  local token=$VH_REHEARSAL_TOKEN
  local system='{"timeout": 10, "max_retries": 4, "backoff_base": 0.5}'
  export AIRFLOW_CONN_VH_FTT_TEST AIRFLOW_CONN_VH_FTT_PROD AIRFLOW_CONN_VH_GRAY_RULES \
    AIRFLOW_CONN_VH_REMOTE_CONFIG AIRFLOW_CONN_VH_RELEASE_PIPELINE AIRFLOW_CONN_VH_DEVICE_FLEET AIRFLOW_CONN_VH_OTA
  AIRFLOW_CONN_VH_FTT_TEST=$(_vh_http_connection "$url/ftt/test" "$token" "$system")
  AIRFLOW_CONN_VH_FTT_PROD=$(_vh_http_connection "$url/ftt/prod" "$token" "$system")
  AIRFLOW_CONN_VH_GRAY_RULES=$(_vh_http_connection "$url/gray-rules" "$token" "$system")
  AIRFLOW_CONN_VH_REMOTE_CONFIG=$(_vh_http_connection "$url/remote-config" "$token" "$system")
  AIRFLOW_CONN_VH_RELEASE_PIPELINE=$(_vh_http_connection "$url/releases" "$token" "$system")
  AIRFLOW_CONN_VH_DEVICE_FLEET=$(_vh_http_connection "$url/fleet" "$token" "$system")
  AIRFLOW_CONN_VH_OTA=$(_vh_http_connection "$url/ota" "$token" "$system")

  # Group robots of the notifications: DingTalk (vh_chat), WeCom and Feishu. E-mail (vh_smtp) is
  # not used by the example contacts file.
  export AIRFLOW_CONN_VH_CHAT AIRFLOW_CONN_VH_WECOM AIRFLOW_CONN_VH_FEISHU
  AIRFLOW_CONN_VH_CHAT=$(_vh_http_connection "$url/chat" "$token" "{\"timeout\": 5, \"secret\": \"$VH_REHEARSAL_CHAT_SECRET\"}")
  AIRFLOW_CONN_VH_WECOM=$(_vh_http_connection "$url/wecom" "$token" '{"timeout": 5, "secret": ""}')
  AIRFLOW_CONN_VH_FEISHU=$(_vh_http_connection "$url/feishu" "$token" "{\"timeout\": 5, \"secret\": \"$VH_REHEARSAL_FEISHU_SECRET\"}")
}
