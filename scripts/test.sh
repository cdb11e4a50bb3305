#!/usr/bin/env bash
# Sets up everything the tests need on a Debian/Ubuntu machine (as root, or with sudo) and runs the
# whole suite: unit tests, then integration tests against the real local fleet (containers, then
# real-kernel VMs). Ends with a line "N passed, N failed" and a non-zero exit code when anything failed.
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
status=0
results=()
# One vitest run; its JSON report is counted in the closing line.
run_vitest() {
  local report=".pcc/test-results-$1.json" node=$2; shift 2
  rm -f "$report"
  results+=("$report")
  "$node" node_modules/vitest/vitest.mjs run --reporter=default --reporter=json --outputFile.json="$report" "$@" < /dev/null || status=$?
}
if [ $# -gt 0 ]; then
  run_vitest selected node "$@"
else
  # Unit tests first and alone: their timing must not compete with the fleet's machines.
  run_vitest unit node --project unit
  # Again on the newest Node.js pcc supports (the AWS SDK needs 22 or newer from 2027).
  node24=$(require_node24)
  say "unit tests on Node.js $("$node24" --version)"
  run_vitest unit-node24 "$node24" --project unit
  run_vitest integration node --project integration
  # Real-kernel VMs last and alone: under software emulation they need both cores.
  run_vitest libvirt node --project libvirt
fi
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0;
  for (const file of process.argv.slice(1)) {
    if (!fs.existsSync(file)) { failed++; continue; }
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    passed += r.numPassedTests;
    failed += r.numFailedTests + (r.numTotalTests - r.numPassedTests - r.numFailedTests);
  }
  console.log(`${passed} passed, ${failed} failed`);
' "${results[@]}"
exit "$status"
