#!/usr/bin/env bash
# Debian packages the tests use: Chromium and a Chinese font for the UI check, docker-compose to
# validate the compose file. Installed only when missing.
set -euo pipefail

missing=()
command -v chromium > /dev/null || missing+=(chromium)
command -v docker-compose > /dev/null || missing+=(docker-compose)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run as root or install them)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null
fi
