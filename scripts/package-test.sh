#!/bin/sh
# The package as users get it: packs kernelseal, installs the tarball into an empty project, and
# verifies offline with the trusted root the package carries: the CLI (verify on the bundled
# example, verify-bundle on real public-good bundles, verify when the TUF refresh fails) and the
# library through an ESM import and a CommonJS require. Any failure stops it with a message.
# Run by `npm run test:package` (after the setup has built dist/ and the addon).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# The Node.js of the tests: the project's, or with KERNELSEAL_TEST_NODE=system the one that runs
# npm (CI's Node.js lines); see scripts/test-node.sh.
cd "$ROOT"
. scripts/test-node.sh
FIXTURES="$ROOT/__test__/fixtures"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kernelseal-package-test-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

fail() {
  echo "package test FAILED: $*" >&2
  exit 1
}
step() {
  echo "package test: $*"
}

step "node $(node --version), npm $(npm --version)"

# 1. Pack. The tarball must carry what the code reads at run time.
(cd "$ROOT" && npm pack --silent --pack-destination "$WORK" >"$WORK/pack.out") || fail "npm pack"
TARBALL="$WORK/$(tail -n 1 "$WORK/pack.out")"
[ -f "$TARBALL" ] || fail "npm pack wrote no tarball ($(cat "$WORK/pack.out"))"
tar -tzf "$TARBALL" >"$WORK/contents"
for file in package/bin/kernelseal.js package/bin/node-support.js package/dist/index.js package/dist/cli/main.js package/trust/public-good.trusted_root.json package/trust/github.trusted_root.json package/trust/github.tuf-root.json package/trust/public-good.signing_config.json package/trust/github.signing_config.json package/LICENSE package/docs/output.schema.json; do
  grep -qx "$file" "$WORK/contents" || fail "the tarball lacks $file"
done
# No source map may point at sources the package does not carry.
if grep -q '\.map$' "$WORK/contents"; then
  fail "the tarball carries source maps of sources it does not ship: $(grep '\.map$' "$WORK/contents" | head -n 3)"
fi
if grep -q "^package/__test__/\|^package/src/\|^package/crates/" "$WORK/contents"; then
  fail "the tarball carries sources or tests: $(grep "^package/__test__/\|^package/src/\|^package/crates/" "$WORK/contents" | head -n 3)"
fi
step "packed $(basename "$TARBALL"): $(wc -l <"$WORK/contents") files"
# The addon it carries is the shipped build, without the hooks that let tests make it panic or
# pause on cue (the `test-hooks` feature of crates/addon/Cargo.toml, built into target/ only).
mkdir "$WORK/unpacked"
tar -xzf "$TARBALL" -C "$WORK/unpacked"
addons=$(find "$WORK/unpacked/package" -name '*.node')
for addon in $addons; do
  if grep -a -q -e KERNELSEAL_TEST_PANIC -e KERNELSEAL_TEST_MAPPED_PAUSE_MS "$addon"; then
    fail "$(basename "$addon") in the tarball carries the test hooks (built with --features test-hooks)"
  fi
done
step "the addon in the tarball carries no test hooks (${addons:+$(echo "$addons" | xargs -n 1 basename | tr '\n' ' ')}checked)"

# 2. Install into an empty project, nothing beside it (the cache serves the dependencies offline).
PROJECT="$WORK/project"
mkdir "$PROJECT"
printf '{ "name": "kernelseal-package-test", "version": "1.0.0", "private": true }\n' >"$PROJECT/package.json"
(cd "$PROJECT" && npm install --silent --no-audit --no-fund --prefer-offline "$TARBALL") || fail "npm install of the tarball"
step "installed into $PROJECT"

# Inputs are copied into the project: nothing below refers to the checkout.
cp -R "$ROOT/examples/relu" "$PROJECT/relu"
# Real public-good bundles: the conformance suite's happy path over a.txt, and the GitHub
# Actions signature of a wheel known by its digest (see __test__/fixtures/README.md).
cp "$FIXTURES/sigstore-conformance/happy-path-v0.3/bundle.sigstore.json" "$PROJECT/a.txt.sigstore.json"
cp "$FIXTURES/sigstore-conformance/a.txt" "$FIXTURES/sigstore-bundles/production/bundle_v3_github.whl.sigstore" "$PROJECT/"

cd "$PROJECT"
KS="$PROJECT/node_modules/.bin/kernelseal"
# expect CODE PATTERN CMD...: runs CMD, checks its exit status and that its output matches.
expect() {
  code=$1 pattern=$2
  shift 2
  status=0
  "$@" >"$WORK/out" 2>&1 || status=$?
  if [ "$status" != "$code" ] || ! grep -q -- "$pattern" "$WORK/out"; then
    cat "$WORK/out" >&2
    fail "'$*' exited $status (expected $code, output matching '$pattern')"
  fi
  step "ok: $(echo "$*" | sed "s|$PROJECT/||g" | cut -c 1-150)"
}

# 3. The CLI, offline, with the root the package carries.
BEACON_SAN=https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main
BEACON="--certificate-identity $BEACON_SAN --certificate-oidc-issuer https://token.actions.githubusercontent.com"
RFC8785="--certificate-identity https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2 --certificate-oidc-issuer https://token.actions.githubusercontent.com"
WHEEL=sha256:c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201
expect 0 "correctly signed" npx --no-install kernelseal verify relu --offline --trusted-root relu/trusted_root.json --policy relu/policy.json
# shellcheck disable=SC2086 # the identity options are words
expect 0 "verified" "$KS" verify-bundle --bundle a.txt.sigstore.json $BEACON --offline a.txt
# shellcheck disable=SC2086
expect 0 "verified" "$KS" verify-bundle --bundle bundle_v3_github.whl.sigstore $RFC8785 --offline "$WHEEL"
# A refresh that fails falls back to the pinned root (a closed port: refused at once).
# shellcheck disable=SC2086
KERNELSEAL_TUF_MIRROR=http://127.0.0.1:9 KERNELSEAL_TUF_CACHE="$WORK/tuf" \
  expect 0 "using the pinned public-good root" "$KS" verify-bundle --bundle a.txt.sigstore.json $BEACON a.txt
# And it does verify: another artifact, or another signer, fails.
printf 'not what was signed\n' >other.txt
# shellcheck disable=SC2086
expect 1 "does not match" "$KS" verify-bundle --bundle a.txt.sigstore.json $BEACON --offline other.txt
expect 1 "not trusted" "$KS" verify-bundle --bundle a.txt.sigstore.json --certificate-identity someone@example.com \
  --certificate-oidc-issuer https://token.actions.githubusercontent.com --offline a.txt

# 3b. The habits users bring, from the installed CLI: exit codes the same everywhere (2 for a
# usage error or a missing input), --json on every outcome, -h only as an option, the peers'
# spellings, a closed pipe.
# expect_json CODE CMD...: runs CMD, checks its status and that stdout is one JSON document
# with that exitCode (the shape of docs/output.schema.json; __test__/cli-habits.test.ts checks all of it).
expect_json() {
  code=$1
  shift
  status=0
  "$@" >"$WORK/out" 2>"$WORK/err" || status=$?
  [ "$status" = "$code" ] || { cat "$WORK/out" "$WORK/err" >&2; fail "'$*' exited $status (expected $code)"; }
  node -e "const d = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')); if (d.schemaVersion !== 1 || d.exitCode !== Number(process.argv[2]) || !Array.isArray(d.results)) process.exit(1)" "$WORK/out" "$code" ||
    { cat "$WORK/out" >&2; fail "'$*' printed no JSON document with exitCode $code"; }
  step "ok (json): $(echo "$*" | sed "s|$PROJECT/||g" | cut -c 1-150)"
}
RELU="relu --offline --trusted-root relu/trusted_root.json --policy relu/policy.json"
# shellcheck disable=SC2086
expect_json 0 "$KS" verify $RELU --json
# shellcheck disable=SC2086
expect_json 1 "$KS" verify $RELU --policy kernels-community --json
expect_json 2 "$KS" verify no-such-variant --offline --json
expect_json 2 "$KS" digest no-such-variant --json
expect_json 2 "$KS" verify-model no-such-model --key relu/policy.json --json
# shellcheck disable=SC2086
expect_json 2 "$KS" verify-bundle --bundle no-such.sigstore.json $BEACON --offline a.txt --json
# shellcheck disable=SC2086
expect_json 1 "$KS" verify-bundle $BEACON --offline other.txt --format json
expect_json 2 "$KS" verfy relu --json
# shellcheck disable=SC2086
expect 2 '--bundle needs a value, and "-h" is an option' "$KS" verify-bundle --bundle -h $BEACON --offline a.txt
# shellcheck disable=SC2086
expect 2 'needs a value, and "--help" is an option' "$KS" verify $RELU --trusted-root --help
expect 0 'Usage: kernelseal verify-bundle' "$KS" verify-bundle a.txt --help
expect 2 "did you mean '--offline'" "$KS" verify relu --ofline
expect 2 "is not a repository id" "$KS" fetch relu
expect 2 "run 'kernelseal verify-model sigstore" "$KS" verify sigstore --identity someone@example.com --identity_provider https://accounts.google.com .
expect 2 "method 'ml-dsa' is not supported" "$KS" verify-model ml-dsa relu --public_key relu/policy.json
expect 2 "--public-key no-such.pub: cannot read" "$KS" verify-model relu --public-key no-such.pub
# cosign's spellings: the Sigstore bundle flag, and Go's (?i) in an identity pattern.
expect 0 "signature verified" "$KS" verify-blob --bundle a.txt.sigstore.json --new-bundle-format \
  --certificate-identity-regexp "(?i)$(printf '%s' "$BEACON_SAN" | tr 'a-z' 'A-Z' | sed 's/[.?]/\\&/g')" \
  --certificate-oidc-issuer https://token.actions.githubusercontent.com --offline a.txt
# shellcheck disable=SC2086
expect 2 "legacy bundle format" "$KS" verify-bundle --new-bundle-format=false --bundle a.txt.sigstore.json $BEACON --offline a.txt
# shellcheck disable=SC2086
expect 0 "kernel metadata is correctly signed; 3 files (811 B) re-hashed" "$KS" verify $RELU
# shellcheck disable=SC2086
[ -z "$("$KS" verify $RELU --quiet 2>&1)" ] || fail "verify --quiet printed something on success"
# A reader that stops early: no EPIPE stack on stderr.
mkdir many
i=0
while [ $i -lt 3000 ]; do
  echo "$i" >"many/f$i.py"
  i=$((i + 1))
done
"$KS" digest many 2>"$WORK/err" | head -n 1 >/dev/null
[ ! -s "$WORK/err" ] || { cat "$WORK/err" >&2; fail "digest | head -n 1 wrote to stderr"; }
step "ok: digest | head -n 1 ends quietly"

# A trusted publisher list made with the installed kernelseal alone (keys outside the folder),
# read as a client would, then deciding for the example (a folder list; its state in $WORK).
export KERNELSEAL_STATE_DIR="$WORK/state"
expect 0 "a new publisher list" "$KS" publishers init list --keys "$WORK/keys"
expect 0 "added" "$KS" publishers add list --repos 'kernelseal-examples/*' --policy relu/policy.json --note 'example CI'
expect 0 "signed" "$KS" publishers sign list --keys "$WORK/keys"
expect 0 "a client accepts this list" "$KS" publishers check list
expect 0 "1 entry" "$KS" publishers show list --publishers-root list/metadata/1.root.json
expect 0 'entry "kernelseal-examples/\*" (example CI)' "$KS" verify relu --repo kernelseal-examples/relu --publishers list \
  --publishers-root list/metadata/1.root.json --offline --trusted-root relu/trusted_root.json
expect 1 "has no entry for other-org/relu" "$KS" verify relu --repo other-org/relu --publishers list \
  --publishers-root list/metadata/1.root.json --offline --trusted-root relu/trusted_root.json
unset KERNELSEAL_STATE_DIR

# 4. The library: default root (pinned, as verifyVariant uses it), ESM and CommonJS.
cat >library-check.mjs <<'EOF'
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const esm = await import('kernelseal');
// require(esm): Node 22.12+ and 24 load an ES module package from CommonJS.
const cjs = createRequire(import.meta.url)('kernelseal');
const san = process.env.BEACON_SAN;
for (const [how, ks] of [['import', esm], ['require', cjs]]) {
  const root = ks.pinnedTrustedRoot();
  const bundle = ks.parseBundle(readFileSync('a.txt.sigstore.json'));
  const policy = ks.identityPolicy(ks.exactly(san), ks.exactly('https://token.actions.githubusercontent.com'));
  const who = ks.verifyBundle(bundle, { bytes: readFileSync('a.txt') }, root, { policy });
  assert.equal(who.identity, san);
  assert.throws(() => ks.verifyBundle(bundle, { bytes: Buffer.from('tampered') }, root, { policy }), /does not match/);
  // The bundled example, with its own root; then with the default root (public-good), which
  // did not sign it: the root must load and the signature be refused, not a missing file.
  const example = 'relu/build/torch210-cxx11-cpu-x86_64-linux';
  const exampleRoot = await ks.readTrustedRoot('relu/trusted_root.json');
  const examplePolicy = await ks.readPolicyFile('relu/policy.json');
  const ok = await ks.verifyVariant(example, { trustedRoot: exampleRoot, policy: examplePolicy });
  assert.equal(ok.status, 'verified', JSON.stringify(ok));
  const byDefault = await ks.verifyVariant(example, { policy: examplePolicy });
  assert.equal(byDefault.status, 'signature-invalid', JSON.stringify(byDefault));
  assert.doesNotMatch(byDefault.reason, /ENOENT/);
  console.log(`library via ${how}: verified ${who.identity}; example ${ok.status}; default root ${byDefault.status}`);
}
EOF
BEACON_SAN=$BEACON_SAN node library-check.mjs || fail "the library check (ESM import and CommonJS require)"
printf "const ks = require('kernelseal');\nif (typeof ks.verifyBundle !== 'function') throw new Error('require(\"kernelseal\") has no verifyBundle');\nconsole.log('require from a .cjs file: ' + Object.keys(ks).length + ' exports');\n" >require-check.cjs
node require-check.cjs || fail "require('kernelseal') from CommonJS"
echo "package test: passed"
