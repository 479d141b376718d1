#!/usr/bin/env bash
# Makes sure nats-server (with JetStream) is on PATH: installs Debian's package when it
# is missing and we are root on Debian/Ubuntu, otherwise says how to get it.
set -euo pipefail
if command -v nats-server >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "kfn: installing nats-server (Debian package) ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq nats-server >/dev/null
  exit 0
fi
cat >&2 <<'MSG'
kfn: nats-server is not installed, and this script can only install it as root on
Debian/Ubuntu (apt-get). Install it yourself, then run the command again:
  - Debian/Ubuntu:  sudo apt-get install nats-server
  - macOS:          brew install nats-server
  - elsewhere:      https://docs.nats.io/running-a-nats-service/introduction/installation
Or point kfn at an existing server with NATS_URL=nats://host:4222.
MSG
exit 1
