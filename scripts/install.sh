#!/usr/bin/env bash
# Installs what kfn needs on a fresh machine and builds it. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node.sh
# npm ci only when the lock file or the Node.js version changed since the last install:
# it wipes node_modules.
stamp=node_modules/.kfn-lock.sha
want="$(sha256sum package-lock.json | cut -d' ' -f1) $(node --version)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  npm ci --no-fund --no-audit --loglevel=error
  echo "$want" >"$stamp"
fi
# Tests need nats-server; `npm start` (KFN_NATS_OPTIONAL=1) goes on without it: functions
# serve, and Triggers say how to install it.
if [ -z "${NATS_URL:-}" ]; then
  bash scripts/ensure-nats.sh || [ "${KFN_NATS_OPTIONAL:-}" = 1 ] || exit 1
fi
npm run -s build
