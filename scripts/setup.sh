#!/bin/sh
# Everything the scripts and tests need, done only when out of date (fast when nothing changed):
#   1. npm dependencies from the lockfile, among them Node.js 24 (the `node` package), which
#      npm scripts put first on PATH: the machine's Node may be older than we support;
#   2. the Node-API addon, built with @napi-rs/cli from crates Debian packages (see
#      scripts/cargo-source.mjs; a normal crates.io build works unchanged);
#   3. the TypeScript, compiled to dist/;
#   4. with --test-hooks, the addon the tests load where they make it panic or pause on cue
#      (target/test-hooks/, never shipped: scripts/build-addon.mjs).
# Usage: sh scripts/setup.sh [--force-build] [--test-hooks]
set -eu
cd "$(dirname "$0")/.."
force=
test_hooks=
for arg in "$@"; do
  case $arg in
    --force-build) force=$arg ;;
    --test-hooks) test_hooks=$arg ;;
    *) echo "usage: sh scripts/setup.sh [--force-build] [--test-hooks]" >&2; exit 2 ;;
  esac
done
log() { printf 'kernelseal setup: %s\n' "$*" >&2; }

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
  || [ ! -x node_modules/.bin/node ]; then
  log "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
PATH="$PWD/node_modules/.bin:$PATH"
export PATH

# Newest file under the given paths is newer than $1 (or $1 is missing)?
stale() {
  target=$1
  shift
  [ ! -e "$target" ] || [ -n "$(find "$@" -newer "$target" -type f 2>/dev/null | head -n 1)" ]
}

addon=$(node -e "import('./scripts/addon-name.mjs').then(m => console.log(m.addonFileName()))")
if [ "$force" = "--force-build" ] || stale "$addon" Cargo.toml crates; then
  if command -v cargo >/dev/null 2>&1; then
    log "building the native addon ($addon)"
    node scripts/build-addon.mjs
  elif [ "${KERNELSEAL_SKIP_ADDON:-}" = 1 ]; then
    log "cargo not found: skipping the native addon (KERNELSEAL_SKIP_ADDON=1); the pure backend will be used"
  else
    log "cargo not found: install Rust to build the native addon, or set KERNELSEAL_SKIP_ADDON=1"
    exit 1
  fi
fi

if [ -n "$test_hooks" ] && command -v cargo >/dev/null 2>&1 \
  && { [ "$force" = "--force-build" ] || stale "target/test-hooks/$addon" Cargo.toml crates; }; then
  log "building the addon with test hooks (target/test-hooks/$addon)"
  node scripts/build-addon.mjs --test-hooks
fi

if [ "$force" = "--force-build" ] || stale dist/index.js src tsconfig.json package.json; then
  log "compiling TypeScript"
  rm -rf dist
  tsc -p tsconfig.json
fi
