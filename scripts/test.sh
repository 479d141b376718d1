#!/usr/bin/env bash
# `npm test`: install, build, lint, type-check and run every test (unit and end to end,
# with real processes, HTTP servers and nats-server). What CI runs.
#   npm test                                  everything
#   npm test -- dist/test/activator/*.test.js only these files (after install and build)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node.sh
bash scripts/install.sh
if [ $# -gt 0 ]; then
  files=("$@")
else
  # The build (tsc, in install.sh) has type-checked everything already.
  npm run -s lint
  mapfile -t files < <(find dist/test -name '*.test.js' | sort)
fi
echo "kfn: testing on Node.js $(node --version), ${#files[@]} files" >&2
# One test file at a time: end-to-end tests start real process trees, and these machines
# have two cores. The spec reporter lists each test and repeats the failures at the end; a
# TAP copy goes to dist/test-results.tap for tools.
exec node --test --test-concurrency=1 --test-timeout=240000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination=dist/test-results.tap \
  "${files[@]}"
