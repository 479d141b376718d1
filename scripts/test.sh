#!/usr/bin/env bash
# `npm test`: install, build, lint, type-check and run every test (unit and end to end,
# with real processes, HTTP servers and nats-server). What CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
npm run -s lint
npm run -s typecheck
# One test file at a time: end-to-end tests start real process trees, and these
# machines have two cores. Files are listed because Node 20 runs every file of a folder
# given to --test, helpers included.
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
exec node --test --test-concurrency=1 --test-timeout=240000 "${files[@]}"
