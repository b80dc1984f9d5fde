#!/bin/sh
# The README's test command, `npm test` (its `pretest` runs scripts/setup.sh first): the Rust
# workspace's tests, then the TypeScript suites against the built package (dist/ and the addon).
# Arguments go to vitest: `npm test -- __test__/digest.test.ts`.
set -eu
cd "$(dirname "$0")/.."
. scripts/test-node.sh
node scripts/cargo.mjs test --workspace --release --quiet
vitest run "$@"
