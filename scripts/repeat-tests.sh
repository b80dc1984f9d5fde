#!/bin/sh
# Runs test files N times in a row and stops at the first failure: how the signing tests
# (which talk to the mock Sigstore services) are shown not to be flaky.
# Usage: npm run test:repeat -- 20 __test__/cli-sign.test.ts __test__/verify-variant.test.ts
# (paths from the project root; the Node.js is chosen as for every test: scripts/test-node.sh)
set -eu
cd "$(dirname "$0")/.."
. scripts/test-node.sh
count=${1:?usage: repeat-tests.sh COUNT FILE...}
shift
# A log of its own: several checkouts may repeat tests on one machine at once.
log=$(mktemp "${TMPDIR:-/tmp}/kernelseal-repeat-XXXXXX")
trap 'rm -f "$log"' EXIT
i=1
while [ "$i" -le "$count" ]; do
  if ! vitest run "$@" >"$log" 2>&1; then
    cat "$log"
    echo "repeat-tests: run $i of $count failed" >&2
    exit 1
  fi
  echo "repeat-tests: run $i of $count passed ($(grep -o '[0-9]* passed' "$log" | tail -1))"
  i=$((i + 1))
done
