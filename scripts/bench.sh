#!/usr/bin/env bash
# `npm run bench`: builds, makes sure the load generator (wrk) and the peer proxies
# (nginx, HAProxy, and Go to build bench/go-proxy) are installed, then runs every
# benchmark once on loopback. Only the data path: BENCH_ONLY=datapath npm run bench.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node.sh
bash scripts/install.sh
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
# Go for the Go reverse proxy (bench/go-proxy), unless a Debian versioned install is there.
command -v go >/dev/null 2>&1 || ls /usr/lib/go*/bin/go >/dev/null 2>&1 || missing+=(golang-go)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "kfn bench: installing ${missing[*]} (Debian packages) ..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || {
      apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    }
  else
    echo "kfn bench: please install ${missing[*]} (Debian/Ubuntu: sudo apt-get install ${missing[*]})" >&2
  fi
fi
exec node dist/bench/main.js "$@"
