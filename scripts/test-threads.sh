#!/bin/sh
# The native engine at the thread counts of the machines it runs on, not just this one's:
# the engine's cargo tests and the native test files with 16 rayon threads, and a focused
# subset with 64 (the engine's file tests, BLAKE3 pieces interleaved on one thread among
# them, and workers ended mid-hash, 10 rounds). What RAYON_NUM_THREADS changes is how rayon
# schedules work, which 2 cores show as well as 64.
# Usage: sh scripts/test-threads.sh   (KERNELSEAL_WORKER_ROUNDS=100 for more rounds)
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh --test-hooks
. scripts/test-node.sh

echo "test-threads: RAYON_NUM_THREADS=16" >&2
RAYON_NUM_THREADS=16 node scripts/cargo.mjs test -p kernelseal-engine --release --quiet
RAYON_NUM_THREADS=16 vitest run __test__/addon-stress.test.ts __test__/addon-workers.test.ts __test__/addon-arguments.test.ts \
  __test__/addon-panics.test.ts __test__/backends.test.ts __test__/digest.test.ts __test__/walk-stats.test.ts

echo "test-threads: RAYON_NUM_THREADS=64" >&2
RAYON_NUM_THREADS=64 node scripts/cargo.mjs test -p kernelseal-engine --release --quiet --test files
RAYON_NUM_THREADS=64 KERNELSEAL_WORKER_ROUNDS=${KERNELSEAL_WORKER_ROUNDS:-10} vitest run __test__/addon-workers.test.ts __test__/digest.test.ts
