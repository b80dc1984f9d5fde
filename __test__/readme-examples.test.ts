// Every TypeScript example of the README, run as written: each is saved as a module in a folder
// that holds the files it names and a copy of the built package, and run with Node.js (which
// strips the types). huggingface.co is a local Hub (HF_ENDPOINT), and Sigstore's public-good
// instance is a local one: the package copy pins its trusted root in place of public-good's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMockHub, type MockHub } from './helpers/mock-hub.ts';
import { folderRoute } from './helpers/tuf-repo.js';
import { githubActionsClaims, identityToken } from './helpers/mock-sigstore.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { tempDir } from './helpers/fs.js';
import { DIST, ROOT, runCli } from './helpers/package.js';
import { unsignedVariant } from './helpers/variant.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const EXAMPLES = [...README.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const CUDA = 'torch210-cxx11-cu128-x86_64-linux';
const CPU = 'torch210-cxx11-cpu-x86_64-linux';

const sigstore = withMockSigstore();
let work: string;
let hub: MockHub;
let env: NodeJS.ProcessEnv;

const keyless = (repository: string) => ({ method: 'keyless', identityToken: identityToken(githubActionsClaims(repository)), fulcioURL: sigstore.url, rekorURL: sigstore.url }) as const;

/** The built package as installed, with the local Sigstore's root where public-good's is pinned. */
function packageCopy(): string {
  const copy = tempDir('kernelseal-package-');
  for (const part of ['dist', 'bin', 'trust', 'package.json', ...readdirSync(ROOT).filter((name) => /^kernelseal\..*\.node$/.test(name))]) {
    cpSync(join(ROOT, part), join(copy, part), { recursive: true });
  }
  writeFileSync(join(copy, 'trust', 'public-good.trusted_root.json'), JSON.stringify(sigstore.trustedRoot));
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  return copy;
}

beforeAll(async () => {
  work = tempDir('kernelseal-readme-');
  mkdirSync(join(work, 'node_modules'));
  symlinkSync(packageCopy(), join(work, 'node_modules', 'kernelseal'));

  // build/<variant>: one signed as kernels-community signs (its policy is the default), one the example's.
  cpSync(unsignedVariant(), join(work, 'build', CUDA), { recursive: true });
  await ks.signVariant(join(work, 'build', CUDA), { signer: keyless('huggingface/kernels-community') });
  cpSync(join(ROOT, 'examples', 'relu', 'build', CPU), join(work, 'build', CPU), { recursive: true });

  // A trusted publisher list that trusts kernels-community's builds for kernels-community/*,
  // made with the CLI, its pinned root in ./root.json.
  const list = join(tempDir('kernelseal-list-'), 'list');
  const listKeys = join(tempDir('kernelseal-keys-'), 'keys');
  const state = tempDir('kernelseal-state-');
  for (const args of [
    ['init', list, '--keys', listKeys],
    ['add', list, '--repos', 'kernels-community/*', '--github', 'huggingface/kernels-community', '--note', 'kernels-community CI'],
    ['sign', list, '--keys', listKeys],
  ]) {
    const made = await runCli(['publishers', ...args], { env: { KERNELSEAL_STATE_DIR: state } });
    expect(made.code, made.stdout + made.stderr).toBe(0);
  }
  cpSync(join(list, 'metadata', '1.root.json'), join(work, 'root.json'));

  // The Hub serves kernels-community/relu v1 with the same signed variant, and the list.
  const repo = tempDir('kernelseal-hub-repo-');
  cpSync(join(work, 'build', CUDA), join(repo, 'build', CUDA), { recursive: true });
  hub = await startMockHub([{ repoId: 'kernels-community/relu', refs: { v1: repo } }], {}, [folderRoute('datasets/trust-org/kernel-publishers', list)]);

  // A key pair, a model signed with it, and bytes to sign.
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(work, 'signing-key.pem'), pair.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(join(work, 'signing-key.pub'), pair.publicKey.export({ format: 'pem', type: 'spki' }));
  mkdirSync(join(work, 'my-model'));
  writeFileSync(join(work, 'my-model', 'weights.bin'), 'weights');
  await ks.signModel(join(work, 'my-model'), { signer: { method: 'key', privateKey: readFileSync(join(work, 'signing-key.pem'), 'utf8') } });

  // dist/tool.tar.gz and its provenance, as my-org/tool's workflow would attest it.
  mkdirSync(join(work, 'dist'));
  const tool = Buffer.from('a release tarball');
  writeFileSync(join(work, 'dist', 'tool.tar.gz'), tool);
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'tool.tar.gz', digest: { sha256: createHash('sha256').update(tool).digest('hex') } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://actions.github.io/buildtypes/workflow/v1',
        externalParameters: { workflow: { ref: 'refs/heads/main', repository: 'https://github.com/my-org/tool', path: '.github/workflows/build.yaml' } },
      },
      runDetails: { builder: { id: 'https://github.com/actions/runner/github-hosted' } },
    },
  };
  const attestation = await ks.signEnvelope(Buffer.from(JSON.stringify(statement)), ks.IN_TOTO_PAYLOAD_TYPE, keyless('my-org/tool'));
  writeFileSync(join(work, 'dist', 'tool.tar.gz.intoto.jsonl'), `${ks.serializeBundle(attestation)}\n`);

  env = {
    HF_ENDPOINT: hub.url,
    HF_HUB_CACHE: tempDir(),
    KERNELS_CACHE: '',
    HF_KERNELS_CACHE: '',
    HF_TOKEN: '',
    HF_HUB_OFFLINE: '',
    KERNELSEAL_TUF_MIRROR: 'http://127.0.0.1:9',
    KERNELSEAL_TUF_CACHE: tempDir(),
    KERNELSEAL_RECEIPT_KEY_FILE: join(tempDir(), 'receipt.key'),
    KERNELSEAL_STATE_DIR: tempDir(),
    KERNELSEAL_PUBLISHERS: '',
    KERNELSEAL_PUBLISHERS_ROOT: '',
  };
}, 120_000);
afterAll(() => hub?.close());

describe("the README's TypeScript examples", () => {
  it('are all here (one per product at least)', () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(8);
  });

  it.each(EXAMPLES.map((code, i) => [i, code.split('\n').find((line) => line.startsWith('import {'))!.slice(0, 90), code]))(
    'example %i (%s) runs as written',
    async (i, _, code) => {
      const file = join(work, `example-${i}.mts`);
      writeFileSync(file, code as string);
      // Asynchronously: the local Hub answers from this process.
      const run = await runCli([], { cli: file, cwd: work, env });
      expect(run.stderr, run.stderr).not.toMatch(/Error|Uncaught|^\s+at /m);
      expect([run.code, run.stdout === '']).toEqual([0, false]);
      // What each one shows, when it is the one that shows it.
      if ((code as string).includes("verifyVariant('build/")) expect(run.stdout).toContain('https://github.com/huggingface/kernels-community/.github/workflows/build.yaml@refs/heads/main relu 6');
      if ((code as string).includes('getKernel(')) expect(run.stdout).toContain(join('kernels--kernels-community--relu', 'snapshots'));
      if ((code as string).includes('verifyModel(')) expect(run.stdout).toBe('verified\n');
      if ((code as string).includes('openPublisherList(')) expect([run.stdout, run.stderr]).toEqual([expect.stringMatching(/^kernels-community\/\* \d+ \d{4}-/), '']);
      if ((code as string).includes('verifyAttestation(')) expect([run.stdout, run.stderr]).toEqual([expect.stringContaining('1 verified'), '']);
      if ((code as string).includes('signBytes(')) expect([run.stdout, run.stderr]).toEqual([expect.stringMatching(/^verified: signed with the key [0-9a-f]{64}\n$/), expect.stringMatching(/^ARTIFACT_MISMATCH /)]);
    },
    60_000,
  );
});
