#!/usr/bin/env bash
# Print .env.example with a fresh random value in place of every "change-me":
#   docker/new-env.sh > .env && chmod 600 .env
# AIRFLOW_FERNET_KEY gets a valid Fernet key: 32 random bytes in URL-safe base64. Every other
# secret gets 18 random bytes as 24 URL-safe characters, which are safe inside a database URL.
set -euo pipefail

example="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.env.example"

random_urlsafe() {
    head -c "$1" /dev/urandom | base64 | tr '+/' '-_' | tr -d '\n'
}

while IFS= read -r line || [[ -n "${line}" ]]; do
    if [[ "${line}" =~ ^([A-Z0-9_]+)=change-me$ ]]; then
        name="${BASH_REMATCH[1]}"
        if [[ "${name}" == "AIRFLOW_FERNET_KEY" ]]; then
            printf '%s=%s\n' "${name}" "$(random_urlsafe 32)"
        else
            printf '%s=%s\n' "${name}" "$(random_urlsafe 18)"
        fi
    else
        printf '%s\n' "${line}"
    fi
done < "${example}"
