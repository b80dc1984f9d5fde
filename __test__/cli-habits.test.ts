// The habits users bring from cosign, gh, model_signing and kernels, and the one output contract
// of every command (docs/output.schema.json): run as the built CLI, as users run it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { cpSync, existsSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMockHub, type MockHub } from './helpers/mock-hub.ts';
import { githubActionsClaims, identityToken } from './helpers/mock-sigstore.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { validate } from './helpers/json-schema.ts';
import { tempDir, writeTree } from './helpers/fs.js';
import { CLI, DIST, ROOT, internal, runCli, testdata } from './helpers/package.js';
import { unsignedVariant } from './helpers/variant.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');
process.env.KERNELSEAL_RECEIPT_KEY_FILE = join(tempDir('kernelseal-state-'), 'receipt.key');
const SCHEMA = JSON.parse(readFileSync(join(ROOT, 'docs', 'output.schema.json'), 'utf8'));

const REPO = 'my-org/relu-kernel';
const SIGNED = 'torch210-cxx11-cpu-x86_64-linux';
const UNSIGNED = 'torch29-cxx11-cpu-x86_64-linux';
const IDENTITY = `https://github.com/${REPO}/.github/workflows/build.yaml@refs/heads/main`;
const ISSUER = 'https://token.actions.githubusercontent.com';

const EXAMPLE = ['examples/relu', '--offline', '--trusted-root', 'examples/relu/trusted_root.json', '--policy', 'examples/relu/policy.json'];
const A_TXT = testdata('sigstore-conformance', 'a.txt');
const A_BUNDLE = testdata('sigstore-conformance', 'happy-path-v0.3', 'bundle.sigstore.json');
const BEACON = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const BY_BEACON = ['--certificate-identity', BEACON, '--certificate-oidc-issuer', ISSUER, '--offline'];
const MODELS = testdata('model-signing', 'model-transparency', 'scripts', 'tests');
const MODEL_KEY = join(MODELS, 'keys', 'certificate', 'signing-key-pub.pem');
const SIGSTORE_JS = testdata('attestations', 'dsse-sigstore-js-2.1.0-bundle-v0.3');
const ATTESTATION = [join(SIGSTORE_JS, 'sigstore-js-2.1.0.tgz'), '--bundle', join(SIGSTORE_JS, 'sigstore-js-2.1.0-bundle.json')];
const PUBLIC_GOOD = testdata('trust', 'public-good-trusted_root.json');
const RELEASE_BUNDLE = testdata('attestations', 'gh-release-attestation-delme-v6', 'github_release_bundle.json');

const sigstore = withMockSigstore();
let repoDir: string;
let hub: MockHub;
let policyFile: string;
let keys: { key: string; pub: string };

beforeAll(async () => {
  repoDir = tempDir('kernelseal-hub-repo-');
  const signer = { method: 'keyless', identityToken: identityToken(githubActionsClaims(REPO)), fulcioURL: sigstore.url, rekorURL: sigstore.url } as const;
  for (const name of [SIGNED, UNSIGNED]) {
    const dir = join(repoDir, 'build', name);
    cpSync(unsignedVariant('relu-kernel'), dir, { recursive: true }); // named as its repository
    const metadata = join(dir, 'metadata.json');
    writeFileSync(metadata, readFileSync(metadata, 'utf8').replace('"type": "cuda"', '"type": "cpu"'));
    if (name === SIGNED) await ks.signVariant(dir, { signer });
  }
  hub = await startMockHub([{ repoId: REPO, refs: { v1: repoDir, main: repoDir } }]);
  policyFile = join(tempDir(), 'policy.json');
  writeFileSync(policyFile, JSON.stringify({ github: { repository: REPO } }));
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const dir = tempDir();
  keys = { key: join(dir, 'key.pem'), pub: join(dir, 'key.pub') };
  writeFileSync(keys.key, pair.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(keys.pub, pair.publicKey.export({ format: 'pem', type: 'spki' }));
}, 120_000);
afterAll(() => hub?.close());

const hubTrust = () => ['--trusted-root', sigstore.trustedRootPath, '--policy', policyFile];
const hubEnv = (cache = tempDir()) => ({ HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache, KERNELS_CACHE: '', HF_KERNELS_CACHE: '', HF_TOKEN: '' });
const variantFiles = () => writeTree(tempDir(), { '__init__.py': 'x = 1\n', 'metadata.json': '{"name":"relu"}' });

/** Runs the CLI with --json and checks the document against the schema; returns it. */
async function jsonRun(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string) {
  const run = await runCli([...args, '--json'], { env, cwd });
  let document: { command: string; ok: boolean; exitCode: number; results: Array<Record<string, unknown>>; error?: { code: string; message: string } };
  try {
    document = JSON.parse(run.stdout);
  } catch {
    throw new Error(`not one JSON document on stdout for ${args.join(' ')}: ${run.stdout}${run.stderr}`);
  }
  expect(validate(document, SCHEMA), `${args.join(' ')}: ${run.stdout}`).toEqual([]);
  expect(document.exitCode, run.stdout + run.stderr).toBe(run.code);
  return document;
}

describe('-h and --help are options, never the value of one', () => {
  // Each command (and subcommand) with one of its options that takes a value.
  const COMMANDS: Array<[string, string]> = [
    ['verify', '--policy'],
    ['verify-bundle', '--bundle'],
    ['verify-attestation', '--bundle'],
    ['verify-release', '--commit'],
    ['fetch', '--revision'],
    ['sign', '--key'],
    ['sign-blob', '--bundle'],
    ['verify-model', '--signature'],
    ['sign-model', '--signature'],
    ['attest', '--output'],
    ['digest', '--algorithm'],
    ['bench', '--data'],
    ['publishers show', '--publishers-root'],
    ['publishers add', '--repos'],
    ['publishers check', '--root'],
    ['publishers init', '--keys'],
    ['lock', '--lockfile'],
  ];

  it.each(COMMANDS)('%s %s -h is a usage error that says how to pass such a value; --help alone is help', async (command, option) => {
    const words = command.split(' ');
    for (const flag of ['-h', '--help']) {
      const run = await runCli([...words, option, flag, 'x']);
      expect([run.code, run.stdout]).toEqual([2, '']);
      expect(run.stderr).toContain(`kernelseal ${words[0]}: ${option} needs a value, and "${flag}" is an option: to give it as the value, write ${option}=${flag}`);
    }
    for (const flag of ['-h', '--help']) {
      const help = await runCli([...words, 'x', flag]);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: kernelseal ${command} `));
    }
  });

  it('a value written --option=-h is that value, and -h after -- is an operand', async () => {
    const bundle = await runCli(['verify-bundle', '--bundle=-h', A_TXT, ...BY_BEACON]);
    expect([bundle.code, bundle.stdout]).toEqual([2, '']);
    expect(bundle.stderr).toContain('--bundle -h: no such file');
    const operand = await runCli(['verify', ...EXAMPLE.slice(1), '--', '-h']);
    expect(operand.code).toBe(2);
    expect(operand.stderr).toContain('-h: no such directory');
  });
});

describe('one output contract: --json on every outcome, one schema, the same exit codes', () => {
  it('every command: success, failure and usage error all print one document the schema holds', async () => {
    const model = join(MODELS, 'v1.1.0-sigstore');
    const byIbm = ['--identity', 'stefanb@us.ibm.com', '--issuer', 'https://sigstore.verify.ibm.com/oauth2', '--offline'];
    const unsignedModel = writeTree(tempDir(), { 'w.bin': 'weights' });
    const blob = join(tempDir(), 'a.whl');
    writeFileSync(blob, 'wheel');
    const variant = unsignedVariant();
    const badMetadata = unsignedVariant();
    writeFileSync(join(badMetadata, 'metadata.json'), '{"name":"k3"}');
    const hashed = variantFiles();
    const changed = variantFiles();
    await runCli(['digest', changed, '--write']);
    writeFileSync(join(changed, '__init__.py'), 'x = 2\n');
    const cases: Array<[args: string[], command: string, exitCode: number, env?: NodeJS.ProcessEnv]> = [
      [['verify', ...EXAMPLE], 'verify', 0],
      [['verify-signature', ...EXAMPLE], 'verify', 0],
      [['verify', ...EXAMPLE.slice(0, -1), 'kernels-community'], 'verify', 1],
      [['verify', '/nonexistent/variant', '--offline'], 'verify', 2],
      [['verify', `${REPO}@1`, '--all-variants', ...hubTrust()], 'verify', 1, hubEnv()],
      [['fetch', REPO, '--version', '1', '--variant', SIGNED, ...hubTrust()], 'fetch', 0, hubEnv()],
      [['fetch', REPO, '--version', '1', '--variant', UNSIGNED, ...hubTrust()], 'fetch', 1, hubEnv()],
      [['fetch', 'relu', ...hubTrust()], 'fetch', 2, hubEnv()],
      [['verify-bundle', '--bundle', A_BUNDLE, A_TXT, ...BY_BEACON], 'verify-bundle', 0],
      [['verify-bundle', '--bundle', A_BUNDLE, `sha256:${'0'.repeat(64)}`, ...BY_BEACON], 'verify-bundle', 1],
      [['verify-bundle', A_TXT, ...BY_BEACON], 'verify-bundle', 1],
      [['verify-bundle', '--bundle', '/nonexistent.json', A_TXT, ...BY_BEACON], 'verify-bundle', 2],
      [['verify-attestation', ...ATTESTATION, '--repo', 'sigstore/sigstore-js', '--trusted-root', PUBLIC_GOOD], 'verify-attestation', 0],
      [['verify-attestation', ...ATTESTATION, '--repo', 'someone/else', '--trusted-root', PUBLIC_GOOD], 'verify-attestation', 1],
      [['verify-attestation', ATTESTATION[0]!, '--repo', 'sigstore/sigstore-js'], 'verify-attestation', 2],
      [['verify-model', model, ...byIbm], 'verify-model', 0],
      [['verify-model', model, ...byIbm.slice(0, 1), 'someone@example.com', ...byIbm.slice(2)], 'verify-model', 1],
      [['verify-model', unsignedModel, '--key', MODEL_KEY], 'verify-model', 1],
      [['verify-model', '/nonexistent/model', '--key', MODEL_KEY], 'verify-model', 2],
      [['sign', variant, '--key', keys.key, '--tlog-upload=false'], 'sign', 0],
      [['sign', badMetadata, '--key', keys.key, '--tlog-upload=false'], 'sign', 1],
      [['sign-blob', blob, '--key', keys.key, '--tlog-upload=false'], 'sign-blob', 0],
      [['sign-blob', '/nonexistent.whl', '--key', keys.key], 'sign-blob', 2],
      [['sign-model', unsignedModel, '--key', keys.key], 'sign-model', 0],
      [['attest', blob, '--identity-token', identityToken(githubActionsClaims(REPO))], 'attest', 1, { GITHUB_ACTIONS: '' }],
      [['digest', hashed], 'digest', 0],
      [['digest', changed, '--check'], 'digest', 1],
      [['digest', hashed, '--check'], 'digest', 1],
      [['digest', '/nonexistent/variant'], 'digest', 2],
      [['verify-release', 'v6', '-R', 'bdehamer/delme', '--bundle', RELEASE_BUNDLE, '--offline'], 'verify-release', 0],
      [['verify-release', 'v7', '-R', 'bdehamer/delme', '--bundle', RELEASE_BUNDLE, '--offline'], 'verify-release', 1],
      [['verify-release', 'v6', '-R', 'bdehamer/delme', '--bundle', '/nonexistent.jsonl', '--offline'], 'verify-release', 2],
      [['publishers', 'check', tempDir()], 'publishers check', 1],
      [['publishers', 'show', '--offline'], 'publishers', 2, { KERNELSEAL_PUBLISHERS: '' }],
      [['bench', '--rounds', '1', '--datasets', 'none', '--rss-datasets', 'none', '--hub', 'none', '--verify', 'none', '--algorithms', 'sha256', '--data', tempDir()], 'bench', 0],
      [['verfy', '.'], 'verfy', 2],
    ];
    for (const [args, command, exitCode, env] of cases) {
      const document = await jsonRun(args, env);
      expect([args.join(' '), document.command, document.exitCode]).toEqual([args.join(' '), command, exitCode]);
      if (exitCode === 2) expect(document.error?.code, args.join(' ')).toBe('USAGE');
      // A command that stopped before its verdict says why; otherwise there are results.
      if (exitCode !== 2) expect(document.results.length > 0 || document.error !== undefined, args.join(' ')).toBe(true);
      if (exitCode === 0) expect(document.results.every((result) => result.ok), args.join(' ')).toBe(true);
    }
  }, 240_000);

  it('publishers init, add, revoke, sign, remove, rotate-key and lock: one document each, with what changed', async () => {
    const work = tempDir();
    const list = join(work, 'list');
    const keysDir = join(work, 'keys');
    const lockfile = join(work, 'kernels.lock');
    const cases: Array<[args: string[], command: string, status: string, env?: NodeJS.ProcessEnv]> = [
      [['publishers', 'init', list, '--keys', keysDir], 'publishers init', 'made'],
      [['publishers', 'add', list, '--repos', 'my-org/*', '--github', 'my-org/builds'], 'publishers add', 'added'],
      [['publishers', 'revoke', list, '--repos', 'my-org/*', '--reason', 'leaked key', '--at', '2026-01-01T00:00:00Z'], 'publishers revoke', 'revoked'],
      [['publishers', 'sign', list, '--keys', keysDir], 'publishers sign', 'signed'],
      [['publishers', 'remove', list, '--repos', 'my-org/*'], 'publishers remove', 'removed'],
      [['publishers', 'rotate-key', list, '--keys', keysDir, '--role', 'timestamp'], 'publishers rotate-key', 'key-rotated'],
      [['lock', `${REPO}@1`, '--lockfile', lockfile, ...hubTrust()], 'lock', 'locked', hubEnv()],
    ];
    const documents = [];
    for (const [args, command, status, env] of cases) {
      const document = await jsonRun(args, env);
      expect([args.join(' '), document.command, document.exitCode, document.results.map((r) => [r.status, r.ok])]).toEqual([args.join(' '), command, 0, [[status, true]]]);
      documents.push(document);
    }
    expect(documents[0]!.results[0]).toMatchObject({ subject: list, rootThreshold: 1, keys: expect.arrayContaining([expect.objectContaining({ roles: ['root'] })]), signed: expect.arrayContaining([expect.objectContaining({ role: 'timestamp', version: 1 })]) });
    expect(documents[2]!.results[0]).toMatchObject({ repos: 'my-org/*', at: '2026-01-01T00:00:00Z', reason: 'leaked key' });
    expect(documents[6]!.results[0]).toMatchObject({ repoId: REPO, path: lockfile, identities: [expect.objectContaining({ sourceRepository: `https://github.com/${REPO}` })] });
    // A failure of theirs is a document too: no such entry (usage, 2), a folder that is no list (1).
    expect(await jsonRun(['publishers', 'remove', list, '--repos', 'none/*'])).toMatchObject({ exitCode: 2, error: { code: 'USAGE', message: expect.stringMatching(/no such entry/) } });
    expect(await jsonRun(['publishers', 'sign', tempDir(), '--keys', keysDir])).toMatchObject({ exitCode: 1, results: [] });
  });

  it('gh spells --json as --format json; any other format is a usage error', async () => {
    const run = await runCli(['verify-bundle', '--bundle', A_BUNDLE, A_TXT, ...BY_BEACON, '--format', 'json']);
    expect(JSON.parse(run.stdout)).toMatchObject({ command: 'verify-bundle', ok: true, results: [{ status: 'verified', signer: { identity: BEACON } }] });
    const table = await runCli(['verify-bundle', '--bundle', A_BUNDLE, A_TXT, ...BY_BEACON, '--format', 'table']);
    expect(table.code).toBe(2);
    expect(table.stderr).toContain('--format takes json, the only other format (got "table")');
  });

  it('a missing input exits 2 in every command, with the file named', async () => {
    for (const [args, named] of [
      [['verify', '/nonexistent/variant'], '/nonexistent/variant: no such directory'],
      [['verify-model', '/nonexistent/model', '--key', MODEL_KEY], '/nonexistent/model: no such model directory or file'],
      [['verify-model', join(MODELS, 'v1.1.0-sigstore'), '--key', MODEL_KEY, '--signature', '/nonexistent.sig'], '--signature /nonexistent.sig: no such file'],
      [['digest', '/nonexistent/variant'], '/nonexistent/variant: no such directory'],
      [['verify-bundle', '--bundle', '/nonexistent.json', A_TXT, ...BY_BEACON], '--bundle /nonexistent.json: no such file'],
      [['verify-bundle', '--bundle', A_BUNDLE, '/nonexistent.txt', ...BY_BEACON], 'cannot read the artifact /nonexistent.txt'],
      [['verify-attestation', '/nonexistent.tgz', '--bundle', ATTESTATION[2]!, '--repo', 'sigstore/sigstore-js'], 'cannot read the artifact /nonexistent.tgz'],
      [['verify-attestation', ATTESTATION[0]!, '--bundle', '/nonexistent.json', '--repo', 'sigstore/sigstore-js'], '--bundle /nonexistent.json: no such file'],
      [['verify-release', 'v6', '-R', 'bdehamer/delme', '--bundle', '/nonexistent.jsonl'], '--bundle /nonexistent.jsonl: no such file'],
      [['publishers', 'check', '/nonexistent/list'], '/nonexistent/list: no such folder'],
      [['sign-model', '/nonexistent/model', '--key', keys.key], '/nonexistent/model: no such model directory or file'],
    ] as Array<[string[], string]>) {
      const run = await runCli(args);
      expect([args.join(' '), run.code]).toEqual([args.join(' '), 2]);
      expect(run.stderr).toContain(named);
    }
  });

  it('the ✅ line says what was checked: files re-hashed, hashed as they downloaded, or vouched for by a receipt', async () => {
    const local = await runCli(['verify', ...EXAMPLE]);
    expect(local.stdout).toMatch(/^✅ examples\/relu\/build\/torch210-cxx11-cpu-x86_64-linux: kernel metadata is correctly signed; 3 files \(811 B\) re-hashed\n/);
    const env = hubEnv();
    const first = await runCli(['fetch', REPO, '--version', '1', '--variant', SIGNED, ...hubTrust()], { env });
    expect(first.stderr).toContain(`✅ ${REPO}@v1 ${SIGNED}: kernel metadata is correctly signed; 6 files hashed as they downloaded\n`);
    const second = await runCli(['fetch', REPO, '--version', '1', '--variant', SIGNED, ...hubTrust(), '--offline'], { env });
    expect(second.stderr).toContain(`✅ ${REPO}@v1 ${SIGNED}: kernel metadata is correctly signed; 6 files vouched for by a receipt (unchanged since verified, not re-hashed)\n`);
    const bundle = await runCli(['verify-bundle', '--bundle', A_BUNDLE, A_TXT, ...BY_BEACON]);
    expect(bundle.stdout).toMatch(/^✅ \S+a\.txt: signature verified; the artifact \(\d+ B\) hashed\n/);
    const byDigest = await runCli(['verify-bundle', '--bundle', A_BUNDLE, `sha256:${createHash('sha256').update(readFileSync(A_TXT)).digest('hex')}`, ...BY_BEACON]);
    expect(byDigest.stdout).toContain('signature verified; over the digest given (the artifact itself was not read)');
  });

  it('--quiet prints failures only; NO_COLOR has nothing to turn off', async () => {
    const quiet = await runCli(['verify', ...EXAMPLE, '-q'], { env: { NO_COLOR: '1' } });
    expect([quiet.code, quiet.stdout, quiet.stderr]).toEqual([0, '', '']);
    const failing = await runCli(['verify', ...EXAMPLE.slice(0, -1), 'kernels-community', '--quiet']);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toMatch(/^❌ .*metadata signature verification failed/);
    // fetch's product (the path) is printed even so; the ✅ status is not.
    const fetched = await runCli(['fetch', REPO, '--version', '1', '--variant', SIGNED, ...hubTrust(), '--quiet'], { env: hubEnv() });
    expect(fetched.code).toBe(0);
    expect(fetched.stdout).toMatch(new RegExp(`/build/${SIGNED}\\n$`));
    expect(fetched.stderr).toBe('');
    for (const run of [quiet, failing, fetched]) expect(run.stdout + run.stderr).not.toMatch(/\x1b\[[0-9;]*m/);
  });

  it('progress bars: on a terminal only, never with --quiet, HF_HUB_DISABLE_PROGRESS_BARS or in CI, and never in colour', async () => {
    const { ProgressBar } = (await import(internal('cli/progress-bar.js'))) as typeof import('../dist/cli/progress-bar.js');
    const saved = { CI: process.env.CI, HF_HUB_DISABLE_PROGRESS_BARS: process.env.HF_HUB_DISABLE_PROGRESS_BARS };
    const draw = async (options: { quiet?: boolean }, env: Record<string, string | undefined>, isTTY = true) => {
      Object.assign(process.env, env);
      for (const [name, value] of Object.entries(env)) if (value === undefined) delete process.env[name];
      const written: string[] = [];
      const bar = new ProgressBar('hashing x', options, { isTTY, columns: 100, write: (text: string) => written.push(text) > 0 });
      await new Promise((resolve) => setTimeout(resolve, 350)); // bars wait 300 ms before showing
      bar.update({ bytesDone: 50, bytesTotal: 100, filesDone: 1, filesTotal: 2 });
      bar.clear();
      return written.join('');
    };
    try {
      const shown = await draw({}, { CI: undefined, HF_HUB_DISABLE_PROGRESS_BARS: undefined });
      expect(shown).toContain('hashing x [############------------]  50% 50 B/100 B 1/2 files');
      expect(shown).not.toMatch(/\x1b\[[0-9;]*m/); // cursor moves only: nothing for NO_COLOR to turn off
      expect(await draw({}, { CI: undefined }, false)).toBe('');
      expect(await draw({ quiet: true }, { CI: undefined })).toBe('');
      expect(await draw({}, { CI: undefined, HF_HUB_DISABLE_PROGRESS_BARS: '1' })).toBe('');
      expect(await draw({}, { CI: 'true', HF_HUB_DISABLE_PROGRESS_BARS: undefined })).toBe('');
    } finally {
      for (const [name, value] of Object.entries(saved)) if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('verify-bundle streams a large artifact through the digest engine, reporting progress', async () => {
    const { readArtifact } = (await import(internal('cli/artifact-operand.js'))) as typeof import('../dist/cli/artifact-operand.js');
    const big = join(tempDir(), 'big.bin');
    writeFileSync(big, '');
    truncateSync(big, 257 * 1024 * 1024); // sparse: beyond what is read whole
    const seen: number[] = [];
    const { artifact, checked } = await readArtifact(big, (progress) => seen.push(progress.bytesTotal));
    expect(checked).toEqual({ how: 'hashed', files: 1, bytes: 257 * 1024 * 1024 });
    expect('digest' in artifact && Buffer.from(artifact.digest).toString('hex')).toBe(createHash('sha256').update(Buffer.alloc(257 * 1024 * 1024)).digest('hex'));
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((total) => total === 257 * 1024 * 1024)).toBe(true);
  });

  it('a reader that stops early ends the command quietly (no EPIPE stack), with SIGPIPE status 141', () => {
    const tree = tempDir();
    for (let i = 0; i < 3000; i++) writeFileSync(join(tree, `f${i}.py`), `x = ${i}\n`);
    const run = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" digest "${tree}" | head -n 1`], { encoding: 'utf8' });
    const piped = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${CLI}" digest "${tree}" | head -n 1 >/dev/null; echo "$?"`], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.split('\n')[0]).toMatch(/^\S+= {2}f\d+\.py$/);
    expect(piped.stderr).toBe('');
    expect(piped.stdout.trim()).toBe('141');
  });
});

describe('the spellings users paste', () => {
  it("cosign: --new-bundle-format is our only format, =false is refused; sign-blob --yes and -y are accepted", async () => {
    expect((await runCli(['verify-bundle', '--bundle', A_BUNDLE, A_TXT, ...BY_BEACON, '--new-bundle-format'])).code).toBe(0);
    expect((await runCli(['verify-blob', '--bundle', A_BUNDLE, A_TXT, ...BY_BEACON, '--new-bundle-format=true'])).code).toBe(0);
    const legacy = await runCli(['verify-bundle', '--bundle', A_BUNDLE, A_TXT, ...BY_BEACON, '--new-bundle-format=false']);
    expect(legacy.code).toBe(2);
    expect(legacy.stderr).toContain("--new-bundle-format=false asks for cosign's legacy bundle format");
    const blob = join(tempDir(), 'a.whl');
    writeFileSync(blob, 'wheel');
    for (const yes of ['--yes', '-y']) {
      const signed = await runCli(['sign-blob', blob, '--key', keys.key, '--tlog-upload=false', '--new-bundle-format', yes]);
      expect([yes, signed.code, signed.stderr]).toEqual([yes, 0, '']);
    }
    expect((await runCli(['verify-bundle', blob, '--key', keys.pub, '--insecure-ignore-tlog', '--offline', '--new-bundle-format'])).code).toBe(0);
  });

  it("cosign: Go's (?i) at the start of --certificate-identity-regexp is honoured, and anchoring kept", async () => {
    // The library's anchored match takes the flags that keep the anchors whole, and no others.
    expect([ks.matching('A.B', 'i').test('a.b'), ks.matching('A.B', 'i').test('xa.b'), ks.matching('a.b', 's').test('a\nb')]).toEqual([true, false, true]);
    expect(() => ks.matching('a', 'm')).toThrow(/regular expression flags may be i and s/);
    expect(() => ks.matching('a', 'g')).toThrow(ks.PolicyError);
    const shouting = BEACON.toUpperCase().replace(/[.?]/g, '\\$&');
    const insensitive = await runCli(['verify-bundle', '--bundle', A_BUNDLE, A_TXT, '--certificate-identity-regexp', `(?i)${shouting}`, '--certificate-oidc-issuer', ISSUER, '--offline']);
    expect(insensitive.stdout + insensitive.stderr).toMatch(/^✅ /);
    // Without the flag the same pattern does not match; with it, a part of the identity still does not.
    // (Its scheme and host in lower case, so that the pattern still names an owner and is no usage error.)
    const sensitive = await runCli(['verify-bundle', '--bundle', A_BUNDLE, A_TXT, '--certificate-identity-regexp', shouting.replace('HTTPS://GITHUB\\.COM/', 'https://github\\.com/'), '--certificate-oidc-issuer', ISSUER, '--offline']);
    expect(sensitive.code).toBe(1);
    const partial = await runCli(['verify-bundle', '--bundle', A_BUNDLE, A_TXT, '--certificate-identity-regexp', '(?i)HTTPS://GITHUB\\.COM/SIGSTORE-CONFORMANCE/', '--certificate-oidc-issuer', ISSUER, '--offline']);
    expect(partial.code).toBe(1);
    expect(partial.stdout).toContain('matching /^(?:HTTPS:\\/\\/GITHUB\\.COM\\/SIGSTORE-CONFORMANCE\\/)$/i');
    for (const [pattern, reason] of [
      ['(?m)^https://.*$', 'the inline flag (?m) would let ^ and $ match at line breaks'],
      ['(?U)https://.*', 'the inline flag (?U) ungreedy matching has no JavaScript equivalent'],
      ['https://github.com/(?i)sigstore-conformance/.*', 'inline flags ((?i)) are honoured only at the start of the pattern'],
      ['(?x)https://.*', '(?x) is not a flag of Go'],
      ['(?i:HTTPS)://.*', 'flag groups such as (?i:...) are not supported'],
    ]) {
      const refused = await runCli(['verify-bundle', '--bundle', A_BUNDLE, A_TXT, '--certificate-identity-regexp', pattern!, '--certificate-oidc-issuer', ISSUER, '--offline']);
      expect([pattern, refused.code]).toEqual([pattern, 2]);
      expect(refused.stderr).toContain(reason);
    }
  });

  it('gh: --cert-identity, --cert-oidc-issuer, -R, --custom-trusted-root, --format json, --signer-digest; owners in any case', async () => {
    const gh = await runCli(['verify-attestation', ...ATTESTATION, '-R', 'Sigstore/Sigstore-JS', '--custom-trusted-root', PUBLIC_GOOD, '--format', 'json']);
    expect(gh.code, gh.stdout + gh.stderr).toBe(0);
    expect(JSON.parse(gh.stdout).results[0].verified[0].signer.sourceRepository).toBe('https://github.com/sigstore/sigstore-js');
    const owner = await runCli(['verify-attestation', ...ATTESTATION, '--owner', 'SIGSTORE', '--trusted-root', PUBLIC_GOOD]);
    expect(owner.code, owner.stdout).toBe(0);
    expect((await runCli(['verify-attestation', ...ATTESTATION, '-o', 'sigstore-evil', '--trusted-root', PUBLIC_GOOD])).code).toBe(1);
    const san = 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main';
    const byCert = await runCli(['verify-attestation', ...ATTESTATION, '--cert-identity', san, '--cert-oidc-issuer', ISSUER, '--trusted-root', PUBLIC_GOOD]);
    expect(byCert.code, byCert.stdout).toBe(0);
    const digest = '26d16513386ffaa790b1c32f927544f1322e4194';
    expect((await runCli(['verify-attestation', ...ATTESTATION, '--repo', 'sigstore/sigstore-js', '--signer-digest', digest, '--trusted-root', PUBLIC_GOOD])).code).toBe(0);
    const wrong = await runCli(['verify-attestation', ...ATTESTATION, '--repo', 'sigstore/sigstore-js', '--signer-digest', '0'.repeat(40), '--trusted-root', PUBLIC_GOOD]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain(`build signer digest (1.3.6.1.4.1.57264.1.10) is "${digest}"`);
    // Both spellings of one option: a usage error naming both as typed.
    const both = await runCli(['verify-attestation', ...ATTESTATION, '--cert-identity', san, '--certificate-identity', san, '--trusted-root', PUBLIC_GOOD]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--cert-identity and --certificate-identity are the same option: give one');
  });

  it("model_signing: 'verify sigstore ...' points at verify-model; ml-dsa is named unsupported; ./model.sig is found", async () => {
    const pasted = await runCli(['verify', 'sigstore', '--identity', 'someone@example.com', '--identity_provider', ISSUER, '--signature', 'model.sig', '.']);
    expect(pasted.code).toBe(2);
    expect(pasted.stderr).toContain("'verify sigstore ...' is model_signing's command line: for a model, run 'kernelseal verify-model sigstore ...' with the same options");
    const signing = await runCli(['sign', 'key', '.', '--private_key', keys.key]);
    expect(signing.stderr).toContain("run 'kernelseal sign-model key ...'");
    const mlDsa = await runCli(['verify-model', 'ml-dsa', join(MODELS, 'v1.1.0-sigstore'), '--public_key', MODEL_KEY]);
    expect(mlDsa.code).toBe(2);
    expect(mlDsa.stderr).toContain("model_signing's method 'ml-dsa' is not supported by kernelseal (supported: sigstore, key, certificate)");
    expect((await runCli(['sign-model', 'pkcs11-key', '.', '--private_key', keys.key])).stderr).toContain("method 'pkcs11-key' is not supported");
    // model_signing signs into ./model.sig by default: verify-model finds it there.
    const beside = await runCli(['verify-model', 'signme-1', '--key', MODEL_KEY], { cwd: join(MODELS, 'v1.0.0-elliptic-key') });
    expect(beside.stdout + beside.stderr).toMatch(/^✅ signme-1: model signature verified/);
    const json = JSON.parse((await runCli(['verify-model', 'signme-1', '--key', MODEL_KEY, '--json'], { cwd: join(MODELS, 'v1.0.0-elliptic-key') })).stdout);
    expect(json.results[0].signature).toBe('model.sig');
  });

  it("model_signing: --trust-config is named as typed, for signing (a signing config) and verifying (a trusted root)", async () => {
    const model = writeTree(tempDir(), { 'w.bin': 'weights' });
    const sign = await runCli(['sign-model', model, '--trust-config', '/nonexistent/trust.json']);
    expect(sign.code).toBe(2);
    expect(sign.stderr).toContain('--trust-config');
    expect(sign.stderr).not.toContain('--signing-config');
    const verify = await runCli(['verify-model', join(MODELS, 'v1.1.0-sigstore'), '--identity', 'a@example.com', '--identity_provider', ISSUER, '--trust_config', '/nonexistent/trust.json']);
    expect(verify.code).toBe(2);
    expect(verify.stderr).toContain('--trust_config');
    expect(verify.stderr).not.toContain('--trusted-root');
    const half = await runCli(['verify-model', join(MODELS, 'v1.1.0-sigstore'), '--identity', 'a@example.com']);
    expect(half.stderr).toContain('--identity needs --certificate-oidc-issuer');
  });

  it('kernels: KERNELS_CACHE (and the older HF_KERNELS_CACHE) is the cache, before HF_HUB_CACHE', async () => {
    const [kernels, older, hf] = [tempDir(), tempDir(), tempDir()];
    const args = ['fetch', REPO, '--version', '1', '--variant', SIGNED, ...hubTrust()];
    const viaKernels = await runCli(args, { env: { ...hubEnv(hf), KERNELS_CACHE: kernels } });
    expect(viaKernels.stdout.startsWith(join(kernels, 'kernels--my-org--relu-kernel'))).toBe(true);
    const viaOlder = await runCli(args, { env: { ...hubEnv(hf), KERNELS_CACHE: kernels, HF_KERNELS_CACHE: older } });
    expect(viaOlder.stdout.startsWith(join(older, 'kernels--my-org--relu-kernel'))).toBe(true);
    expect(existsSync(join(hf, 'kernels--my-org--relu-kernel'))).toBe(false);
  });

  it('kernels: verify --all-variants --filter-unsigned leaves unsigned variants out, as kernels verify-signature does', async () => {
    const env = hubEnv();
    const all = await runCli(['verify', `${REPO}@1`, '--all-variants', ...hubTrust()], { env });
    expect(all.code).toBe(1);
    const filtered = await runCli(['verify', `${REPO}@1`, '--all-variants', '--filter-unsigned', ...hubTrust()], { env });
    expect(filtered.code, filtered.stdout + filtered.stderr).toBe(0);
    expect(filtered.stdout).not.toContain(UNSIGNED);
    expect(filtered.stderr).toContain('left out 1 variant (--filter-unsigned)');
    const json = JSON.parse((await runCli(['verify', `${REPO}@1`, '--all-variants', '--filter-unsigned', ...hubTrust(), '--json'], { env })).stdout);
    expect(json.results.map((r: { status: string; skipped?: string }) => [r.status, r.skipped])).toEqual([
      ['verified', undefined],
      ['signature-missing', '--filter-unsigned'],
    ]);
    // Leaving everything out checks nothing: a failure, never a ✅ by omission.
    const only = tempDir();
    cpSync(join(repoDir, 'build', UNSIGNED), join(only, 'build', UNSIGNED), { recursive: true });
    const nothing = await runCli(['verify', only, '--filter-unsigned', ...hubTrust()]);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('nothing was checked');
  });

  it('options get "did you mean", and an error never names a flag the user did not type', async () => {
    const typo = await runCli(['verify', '.', '--ofline']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("unknown option '--ofline': did you mean '--offline'?");
    const model = await runCli(['verify-model', join(MODELS, 'v1.1.0-sigstore'), '--public-key', '/nonexistent.pub']);
    expect(model.stderr).toContain('--public-key /nonexistent.pub: cannot read');
    expect(model.stderr).not.toMatch(/--key\b/);
  });

  it('fetch relu (no org) is a usage error before any network work', async () => {
    const before = hub.requests.length;
    const run = await runCli(['fetch', 'relu', '--version', '1', ...hubTrust()], { env: hubEnv() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('"relu" is not a repository id: write org/name (e.g. kernels-community/relu)');
    expect(hub.requests.length).toBe(before);
  });
});

describe('messages of several lines cannot be made to show a line of their own', () => {
  it("sign's refusals quote a metadata.json or a file name with line breaks on one line", async () => {
    const dir = unsignedVariant();
    writeFileSync(join(dir, 'metadata.json'), 'x\n✅ signed, all good\n');
    const bad = await runCli(['sign', dir, '--key', keys.key, '--tlog-upload=false']);
    expect(bad.code).toBe(1);
    expect(bad.stdout.split('\n').filter((line) => line.startsWith('✅'))).toEqual([]);
    expect(bad.stdout).toContain('"x\\n✅ signed"');
    const other = unsignedVariant();
    symlinkSync(tempDir(), join(other, 'evil\n✅ signed'));
    const refused = await runCli(['sign', other, '--key', keys.key, '--tlog-upload=false']);
    expect(refused.code).toBe(1);
    expect(refused.stdout.split('\n').filter((line) => line.startsWith('✅'))).toEqual([]);
    expect(refused.stdout).toContain('  evil\\n✅ signed: ');
  });
});

describe('ready to publish', () => {
  it('states the Node.js versions once: engines, the CLI check and the README say the same', async () => {
    const { SUPPORTED_NODE, supportsNode } = (await import(new URL('../bin/node-support.js', import.meta.url).href)) as { SUPPORTED_NODE: string; supportsNode: (v: string, r?: string) => boolean };
    const engines = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.node as string;
    expect(SUPPORTED_NODE).toBe(engines);
    const versions = ['20.19.0', '22.22.1', '22.22.2', '23.11.0', '24.14.9', '24.15.0', 'v24.21.0', '25.9.0', '26.0.0', '31.2.3'];
    expect(versions.filter((v) => supportsNode(v))).toEqual(['22.22.2', '24.15.0', 'v24.21.0', '26.0.0', '31.2.3']);
    expect(() => supportsNode('24.0.0', '~24.1.0')).toThrow(/cannot read "~24.1.0"/);
    // The README says it in one place, in the words of engines.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const stated = engines.replace(/\.0\.0$/, '').replace(/>=/, '>= ').split(' || ');
    expect(readme).toContain(`**Node.js ${stated.slice(0, -1).join(', ')} or ${stated.at(-1)}**`);
    expect(readme.split('22.22.2').length - 1).toBe(1);
    // The CLI refuses what engines excludes, naming the range: a package whose engines leave this Node.js out.
    const copy = tempDir();
    cpSync(join(ROOT, 'bin'), join(copy, 'bin'), { recursive: true });
    writeFileSync(join(copy, 'package.json'), JSON.stringify({ type: 'module', engines: { node: '^99.0.0' } }));
    const refused = await runCli(['--version'], { cli: join(copy, 'bin', 'kernelseal.js') });
    expect([refused.code, refused.stdout]).toEqual([2, '']);
    expect(refused.stderr).toBe(`kernelseal needs Node.js ^99.0.0; this is ${process.version}.\nIn a clone of kernelseal, 'npm run' scripts use the Node.js the setup installs.\n`);
  });

  it('ships a licence, the output schema and where to find the project, and no source maps', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(pkg).toMatchObject({
      license: 'Apache-2.0',
      repository: { type: 'git', url: 'git+https://github.com/OWNER/kernelseal.git' },
      homepage: 'https://github.com/OWNER/kernelseal#readme',
      bugs: { url: 'https://github.com/OWNER/kernelseal/issues' },
    });
    expect(pkg.files).toEqual(expect.arrayContaining(['docs/output.schema.json', '!dist/**/*.map']));
    expect(JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')).compilerOptions.sourceMap).toBe(false);
    // The README says plainly that the package is not on npm yet (scripts/package-test.sh checks the tarball itself).
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('**kernelseal is not on npm yet**');
  });

  it("the Quick start's addon build drops only the one warning @napi-rs/cli gives by design", () => {
    // scripts/build-addon.mjs filters that line (the addon declares Node-API by hand, without
    // napi-derive); if @napi-rs/cli rewords it, this fails instead of the warning coming back.
    const cli = readFileSync(join(ROOT, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js'), 'utf8');
    const warning = /const requirementWarning = "([^"]+)"/.exec(cli)?.[1];
    const filter = /const BY_DESIGN = \/(.+)\/;/.exec(readFileSync(join(ROOT, 'scripts', 'build-addon.mjs'), 'utf8'))?.[1];
    expect(warning).toBeDefined();
    expect(new RegExp(filter!).test(warning!)).toBe(true);
    expect(new RegExp(filter!).test('warning: unused variable')).toBe(false);
  });
});

describe('the README maps the peers’ commands to ours', () => {
  it('every kernelseal command line in the table parses as written', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Coming from cosign, gh, model_signing or kernels'), readme.indexOf('## Output for people and for scripts'));
    const rows = section.split('\n').filter((line) => line.startsWith('| `'));
    const ours = rows.map((row) => /^\|[^|]+\| `(kernelseal [^`]+)`/.exec(row)?.[1]).filter((line): line is string => line !== undefined);
    expect(ours).toHaveLength(rows.length);
    expect(ours.length).toBeGreaterThan(10);
    for (const line of ours) {
      // Parsed first, then help: exit 0 proves every word of the line is understood, and nothing runs.
      const args = [...line.split(/\s+/).slice(1).map((word) => word.replace(/^'(.*)'$/, '$1')), '--help'];
      const run = await runCli(args);
      expect([line, run.code, run.stderr]).toEqual([line, 0, '']);
    }
  }, 120_000);
});

describe('the Hub client waits out a busy Hub (429, 503), as Retry-After asks, within its deadline', () => {
  it('retries a listing after Retry-After seconds, and a download after an HTTP date', async () => {
    const busy = await startMockHub([{ repoId: REPO, refs: { v1: repoDir } }], { busy: { path: '/revision/', times: 2, status: 429, retryAfter: '1' } });
    try {
      const client = new ks.HubClient({ endpoint: busy.url });
      const listing = await client.revision(REPO, 'v1');
      expect(listing.commit).toBe(busy.commitOf(REPO, 'v1'));
      const asked = busy.requests.filter((r) => r.path.includes('/revision/'));
      expect(asked).toHaveLength(3);
      // Retry-After: 1 was honoured each time (a lower bound only: the machine may be slow).
      expect(asked[1]!.at - asked[0]!.at).toBeGreaterThanOrEqual(950);
      expect(asked[2]!.at - asked[1]!.at).toBeGreaterThanOrEqual(950);

      const file = listing.files.find((f) => f.path === `build/${SIGNED}/__init__.py`)!;
      busy.faults.busy = { path: '/resolve/', times: 1, status: 503, retryAfter: new Date(Date.now() + 1500).toUTCString() };
      const destination = join(tempDir(), 'blob');
      writeFileSync(destination, '');
      await client.download(REPO, listing.commit, file, destination);
      expect(readFileSync(destination, 'utf8')).toBe(readFileSync(join(repoDir, 'build', SIGNED, '__init__.py'), 'utf8'));
      expect(busy.requests.filter((r) => r.path.includes('/resolve/'))).toHaveLength(2);
    } finally {
      await busy.close();
    }
  });

  it('gives up at once, naming the status and Retry-After, when the wait would pass the deadline', async () => {
    const busy = await startMockHub([{ repoId: REPO, refs: { v1: repoDir } }], { busy: { path: '/revision/', times: 10, status: 503, retryAfter: '120' } });
    try {
      const client = new ks.HubClient({ endpoint: busy.url, timeoutMs: 5_000 });
      const error = await client.revision(REPO, 'v1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ks.HubError);
      expect(error).toMatchObject({ code: 'HUB_STATUS', status: 503 });
      expect((error as Error).message).toBe(`the Hub (${busy.url}) is busy (503, retry after 120): gave up after 1 attempts within the 5 s deadline`);
      expect(busy.requests).toHaveLength(1);
      // Without Retry-After: 1 s, then 2 s, ... while the deadline allows (1 + 2 <= 5, + 4 > 5).
      busy.faults.busy = { path: '/revision/', times: 10, status: 429 };
      const again = await client.revision(REPO, 'v1').catch((e: unknown) => e);
      expect(again).toMatchObject({ code: 'HUB_STATUS', status: 429 });
      expect(busy.requests).toHaveLength(1 + 3);
    } finally {
      await busy.close();
    }
  });

  it('reads Retry-After as seconds or an HTTP date, and nothing else', async () => {
    const { retryAfterMs } = (await import(new URL('../dist/kernels/hub/hub-client.js', import.meta.url).href)) as typeof import('../dist/kernels/hub/hub-client.js');
    const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Wed, 21 Oct 2026 07:28:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Wed, 21 Oct 2026 07:27:00 GMT', now)).toBe(0);
    for (const junk of ['-1', '1.5', 'soon', '']) expect([junk, retryAfterMs(junk, now)]).toEqual([junk, undefined]);
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
