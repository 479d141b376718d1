#!/usr/bin/env bash
# `npm start`: install, build and run the whole platform on this machine with the samples.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node.sh
KFN_NATS_OPTIONAL=1 bash scripts/install.sh
exec node dist/cmd/kfn/main.js dev samples "$@"
