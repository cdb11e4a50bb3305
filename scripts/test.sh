#!/usr/bin/env bash
# Sets up everything the tests need on a Debian/Ubuntu machine (as root, or with sudo) and runs the
# whole suite: unit tests, then integration tests against the real local fleet. Ends with a line
# "N passed, N failed" and a non-zero exit code when anything failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

require_node
install_node_modules
build
say "type check (sources, tests, benchmarks)"
npm run -s typecheck >&2
say "bringing up the test fleet"
fleet_up

mkdir -p .pcc
results=.pcc/test-results.json
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" < /dev/null || status=$?
if [ -f "$results" ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests + (r.numTotalTests - r.numPassedTests - r.numFailedTests)} failed`);
  ' "$results"
else
  echo "0 passed, 1 failed"
fi
exit "$status"
