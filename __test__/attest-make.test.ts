import { beforeAll, describe, expect, it } from 'vitest';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/fs.js';
import { githubActionsClaims, githubActionsJobEnv, identityToken } from './helpers/mock-sigstore.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { DIST, ROOT, runCli } from './helpers/package.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');

// `kernelseal attest` in a GitHub-like job against the local mock Sigstore, round-tripping
// through `verify-attestation` and sigstore-js's own verifier.

const REPO = 'org/pkg';
const REF = 'refs/tags/v1.0.0';
const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const NO_AMBIENT = { SIGSTORE_ID_TOKEN: '', ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '', BUILDKITE: '' };
/** What a GitHub-hosted job of org/pkg's release workflow, pushed as tag v1.0.0, has in its environment. */
const GITHUB_ENV = githubActionsJobEnv(REPO, 'release.yml', REF, SHA);
const NOT_GITHUB = Object.fromEntries(Object.keys(GITHUB_ENV).map((name) => [name, '']));

const sigstore = withMockSigstore();
let services: string[];
beforeAll(() => {
  services = ['--fulcio-url', sigstore.url, '--rekor-url', sigstore.url];
});

const token = () => identityToken({ ...githubActionsClaims(REPO, 'release.yml', REF), runner_environment: 'github-hosted' });
const dir = tempDir();

function artifacts(...names: string[]): string[] {
  return names.map((name) => {
    const path = join(dir, name);
    writeFileSync(path, `contents of ${name} ${Math.random()}`);
    return path;
  });
}

const attestCli = (args: string[], env: Record<string, string> = GITHUB_ENV) => runCli(['attest', ...args, '--identity-token', token(), ...services], { env: { ...NO_AMBIENT, ...env } });
const verifyCli = (artifact: string, bundle: string, ...policy: string[]) =>
  runCli(['verify-attestation', artifact, '--bundle', bundle, '--trusted-root', sigstore.trustedRootPath, ...policy, '--json']);

describe('attest() in the library', () => {
  it('hashes the artifacts with the backend it is given', async () => {
    const [wheel] = artifacts('backend.whl') as [string];
    const hashed: string[] = [];
    // The pure backend, counting: attest must use it, not the one selected for the process.
    const backend: typeof ks.pureBackend = {
      ...ks.pureBackend,
      hashFile: (path, ...rest) => {
        hashed.push(path);
        return ks.pureBackend.hashFile(path, ...rest);
      },
    };
    const signer = { method: 'keyless' as const, identityToken: token(), fulcioURL: sigstore.url, rekorURL: sigstore.url };
    const made = await ks.attest({ artifacts: [wheel], signer, env: GITHUB_ENV, output: join(dir, 'backend.jsonl'), backend });
    expect(hashed).toEqual([wheel]);
    expect(made.statement.subject).toEqual([{ name: 'backend.whl', digest: { sha256: createHash('sha256').update(readFileSync(wheel)).digest('hex') } }]);
  });
});

describe('kernelseal attest', () => {
  it('signs SLSA v1 provenance of the job for every artifact, which verify-attestation and sigstore-js accept', async () => {
    const [wheel, sdist] = artifacts('pkg-1.0.0-py3-none-any.whl', 'pkg-1.0.0.tar.gz') as [string, string];
    const made = await attestCli([wheel, sdist, '--json']);
    expect(made.code, made.stdout + made.stderr).toBe(0);
    expect(JSON.parse(made.stdout).results[0].written).toEqual([`${wheel}.intoto.sigstore.json`, `${sdist}.intoto.sigstore.json`]);

    const json = JSON.parse(readFileSync(`${wheel}.intoto.sigstore.json`, 'utf8'));
    expect(json.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    const statement = JSON.parse(Buffer.from(json.dsseEnvelope.payload, 'base64').toString('utf8'));
    // What gh attestation verify reads: the predicate type, the subjects' sha256, the build facts.
    expect(statement).toEqual({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [wheel, sdist].map((path) => ({ name: path.split('/').pop(), digest: { sha256: createHash('sha256').update(readFileSync(path)).digest('hex') } })),
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {
        buildDefinition: {
          buildType: 'https://actions.github.io/buildtypes/workflow/v1',
          externalParameters: { workflow: { ref: REF, repository: `https://github.com/${REPO}`, path: '.github/workflows/release.yml' } },
          internalParameters: { github: { event_name: 'push', repository_id: '123456', repository_owner_id: '7890', runner_environment: 'github-hosted' } },
          resolvedDependencies: [{ uri: `git+https://github.com/${REPO}@${REF}`, digest: { gitCommit: SHA } }],
        },
        runDetails: {
          builder: { id: 'https://github.com/actions/runner/github-hosted' },
          metadata: { invocationId: `https://github.com/${REPO}/actions/runs/42/attempts/1` },
        },
      },
    });

    // sigstore-js's verifier, on its own, over the mock's trusted root.
    const bundle = bundleFromJSON(json);
    new Verifier(toTrustMaterial(TrustedRoot.fromJSON(sigstore.trustedRoot))).verify(toSignedEntity(bundle));

    for (const artifact of [wheel, sdist]) {
      const verified = await verifyCli(artifact, `${artifact}.intoto.sigstore.json`, '--repo', REPO, '--source-ref', REF, '--source-digest', SHA, '--deny-self-hosted-runners');
      expect(verified.code, verified.stdout).toBe(0);
      expect(JSON.parse(verified.stdout).results[0].verified[0].provenance).toMatchObject({ workflowPath: '.github/workflows/release.yml', sourceDigest: SHA });
    }
    const otherRepo = await verifyCli(wheel, `${wheel}.intoto.sigstore.json`, '--repo', 'org/other');
    expect(otherRepo.code).toBe(1);
    expect(JSON.parse(otherRepo.stdout).results[0].failures).toEqual([
      expect.objectContaining({ code: 'POLICY_ERROR', reason: 'the signer is not trusted by the policy: identity is "https://github.com/org/pkg/.github/workflows/release.yml@refs/tags/v1.0.0", expected matching /^(?:https:\\/\\/github\\.com\\/org\\/other\\/.+)$/i' }),
    ]);
    // A policy file on the predicate holds on what attest wrote.
    const policy = join(dir, 'policy.json');
    writeFileSync(policy, JSON.stringify({ issuer: 'https://token.actions.githubusercontent.com', github: { repository: REPO }, predicate: { builderId: 'https://github.com/actions/runner/github-hosted', workflowRef: REF } }));
    expect((await verifyCli(wheel, `${wheel}.intoto.sigstore.json`, '--policy', policy)).code).toBe(0);
  });

  it('the attestation covers the bytes attested: a changed artifact fails', async () => {
    const [wheel] = artifacts('changed.whl') as [string];
    expect((await attestCli([wheel])).code).toBe(0);
    writeFileSync(wheel, 'something else');
    const verified = await verifyCli(wheel, `${wheel}.intoto.sigstore.json`, '--repo', REPO);
    expect(verified.code).toBe(1);
    expect(JSON.parse(verified.stdout).results[0].failures[0].reason).toBe("no subject of the in-toto statement carries the artifact's digest");
  });

  it('--output writes JSON Lines, and --predicate signs any predicate', async () => {
    const [file] = artifacts('model.onnx') as [string];
    const out = join(dir, 'attestations.jsonl');
    expect((await attestCli([file, '--output', out])).code).toBe(0);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(existsSync(`${file}.intoto.sigstore.json`)).toBe(false);
    expect((await verifyCli(file, out, '--repo', REPO)).code).toBe(0);

    const predicate = join(dir, 'sbom.json');
    writeFileSync(predicate, JSON.stringify({ spdxVersion: 'SPDX-2.3' }));
    const sbom = join(dir, 'sbom.jsonl');
    expect((await attestCli([file, '--predicate-type', 'https://spdx.dev/Document/v2.3', '--predicate', predicate, '--output', sbom], NOT_GITHUB)).code).toBe(0);
    const notAsked = await verifyCli(file, sbom, '--repo', REPO);
    expect(notAsked.code).toBe(1);
    expect(JSON.parse(notAsked.stdout).results[0].failures).toEqual([expect.objectContaining({ code: 'PREDICATE_TYPE_ERROR', reason: expect.stringMatching(/^predicate type "https:\/\/spdx\.dev\/Document\/v2\.3" is not one asked for/) })]);
    expect((await verifyCli(file, sbom, '--repo', REPO, '--predicate-type', 'https://spdx.dev/Document/v2.3')).code).toBe(0);
  });

  it('outside GitHub Actions it refuses, naming what is missing, before anything is signed or written', async () => {
    const [file] = artifacts('local.whl') as [string];
    const before = sigstore.requests.get('/api/v2/signingCert') ?? 0;
    const { code, stdout } = await attestCli([file], { ...NOT_GITHUB, GITHUB_REPOSITORY: REPO });
    expect(code).toBe(1);
    expect(stdout).toMatch(/build provenance is made inside GitHub Actions only: GITHUB_ACTIONS, GITHUB_SERVER_URL, GITHUB_REPOSITORY_ID, .*RUNNER_ENVIRONMENT are not set/);
    expect(sigstore.requests.get('/api/v2/signingCert') ?? 0).toBe(before);
    expect(existsSync(`${file}.intoto.sigstore.json`)).toBe(false);
  });

  it("the example workflow's verify step accepts what its attest step wrote", async () => {
    const workflow = readFileSync(join(ROOT, 'examples', 'github-actions', 'release-provenance.yml'), 'utf8');
    expect(workflow).toMatch(/id-token: write/);
    expect(workflow).toMatch(/kernelseal@[\d.]+ attest dist\/\*\.whl dist\/\*\.tar\.gz/);
    const step = /verify-attestation "\$file" --bundle "\$file\.intoto\.sigstore\.json"([^]*?)\n\s*done/.exec(workflow)![1]!;
    const flags = step
      .replace(/\\\n/g, ' ')
      .replace(/"\$(\w+)"/g, (_, name: string) => GITHUB_ENV[name as keyof typeof GITHUB_ENV])
      .trim()
      .split(/\s+/);
    expect(flags).toEqual(['--repo', REPO, '--source-ref', REF, '--deny-self-hosted-runners']);
    const [file] = artifacts('pkg-2.0.0.tar.gz') as [string];
    expect((await attestCli([file])).code).toBe(0);
    expect((await verifyCli(file, `${file}.intoto.sigstore.json`, ...flags)).code).toBe(0);
  });

  it('a validly signed statement that repeats a key is refused: its meaning would depend on the parser', async () => {
    const [file] = artifacts('dup.whl') as [string];
    const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
    // JSON.parse keeps the last predicateType (SLSA v1), other parsers the first.
    const payload = `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"dup.whl","digest":{"sha256":"${sha256}"}}],"predicateType":"https://example.com/anything","predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`;
    const signed = await ks.signEnvelope(Buffer.from(payload), 'application/vnd.in-toto+json', { method: 'keyless', identityToken: token(), fulcioURL: sigstore.url, rekorURL: sigstore.url });
    const bundle = join(dir, 'dup.sigstore.json');
    writeFileSync(bundle, ks.serializeBundle(signed));
    const options = { artifact: { bytes: readFileSync(file) }, bundles: [bundle], trustedRoot: await ks.readTrustedRoot(sigstore.trustedRootPath) };
    const refused = [{ source: bundle, code: 'ARTIFACT_MISMATCH', reason: 'the in-toto statement: duplicate key "predicateType": its meaning would depend on the parser' }];
    expect((await ks.verifyAttestation({ ...options, policy: ks.githubAttestationPolicy({ repo: REPO })! })).failures).toEqual(refused);
    // The same reason when the policy reads the predicate it cannot have.
    const onPredicate = ks.parsePolicy({ issuer: 'https://token.actions.githubusercontent.com', github: { repository: REPO }, predicate: { buildType: { regexp: '.*' } } });
    expect((await ks.verifyAttestation({ ...options, policy: onPredicate })).failures).toEqual(refused);
  });

  it('refuses two artifacts of the same name: a subject must say which file it is', async () => {
    const [a] = artifacts('same.whl') as [string];
    const { code, stdout } = await attestCli([a, a]);
    expect(code).toBe(1);
    expect(stdout).toContain('two artifacts are named "same.whl"');
  });
});

describe("attest chooses the instance as actions/attest does: a private repository's details never reach the public log", () => {
  const event = (visibility: string | undefined) => {
    const path = join(dir, `event-${visibility}.json`);
    writeFileSync(path, JSON.stringify(visibility === undefined ? {} : { repository: { visibility } }));
    return path;
  };
  // No service flags: the instance's own services. This machine reaches neither, so the failure
  // names the Fulcio that was asked, and the mock public-good instance sees no request.
  const attestOn = async (eventPath: string, ...flags: string[]) => {
    const [file] = artifacts('private.whl') as [string];
    const before = sigstore.requests.size;
    const result = await runCli(['attest', file, '--identity-token', token(), '--timeout', '5s', ...flags], { env: { ...NO_AMBIENT, ...GITHUB_ENV, GITHUB_EVENT_PATH: eventPath, KERNELSEAL_TUF_MIRROR: 'http://127.0.0.1:9' } });
    expect(sigstore.requests.size).toBe(before);
    expect(existsSync(`${file}.intoto.sigstore.json`)).toBe(false);
    return result;
  };

  it.each([['private'], ['internal'], [undefined]])('a %s repository signs on GitHub\'s Fulcio and TSA', async (visibility) => {
    const { code, stdout } = await attestOn(event(visibility));
    expect(code).toBe(1);
    expect(stdout).toMatch(/^❌ not attested: signing failed \(https:\/\/fulcio\.githubapp\.com\)/);
  });

  it('a public one on public-good, from its signing config; --sigstore chooses explicitly', async () => {
    expect((await attestOn(event('public'))).stdout).toMatch(/^❌ not attested: signing failed \(https:\/\/fulcio\.sigstore\.dev\)/);
    expect((await attestOn(event('public'), '--sigstore', 'github')).stdout).toMatch(/signing failed \(https:\/\/fulcio\.githubapp\.com\)/);
    expect((await attestOn(event('private'), '--sigstore', 'public-good')).stdout).toMatch(/signing failed \(https:\/\/fulcio\.sigstore\.dev\)/);
  });

  it("GitHub's signing config names no log: the signature is timestamped, not logged", async () => {
    const { pinnedSigningServices } = (await import('../dist/sign/signing-config.js')) as typeof import('../dist/sign/signing-config.js');
    expect(pinnedSigningServices('github')).toEqual({ fulcioURL: 'https://fulcio.githubapp.com', tlogUpload: false, tsaURL: 'https://timestamp.githubapp.com/api/v1/timestamp' });
    expect(pinnedSigningServices('public-good')).toEqual({ fulcioURL: 'https://fulcio.sigstore.dev', rekorURL: 'https://rekor.sigstore.dev', rekorVersion: 1, tsaURL: 'https://timestamp.sigstore.dev/api/v1/timestamp' });
    expect(pinnedSigningServices('public-good', 2)).toMatchObject({ rekorURL: 'https://log2025-1.rekor.sigstore.dev', rekorVersion: 2 });
  });
});

describe("an instance without a transparency log, as GitHub's own (a private instance on the mock)", () => {
  it('attest signs with its Fulcio and TSA alone, logs nothing, and verifies against that instance\'s root only', async () => {
    const config = join(dir, 'private-signing-config.json');
    const service = (url: string) => ({ url, majorApiVersion: 1, validFor: { start: '2020-01-01T00:00:00Z' } });
    writeFileSync(config, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json', caUrls: [service(sigstore.url)], rekorTlogUrls: [], tsaUrls: [service(sigstore.tsaURL)] }));
    const [file] = artifacts('private-pkg.tar.gz') as [string];
    const logged = () => (sigstore.requests.get('/api/v1/log/entries') ?? 0) + (sigstore.requests.get('/api/v2/log/entries') ?? 0);
    const before = logged();
    const made = await runCli(['attest', file, '--identity-token', token(), '--signing-config', config], { env: { ...NO_AMBIENT, ...GITHUB_ENV } });
    expect(made.code, made.stdout + made.stderr).toBe(0);
    expect(logged()).toBe(before);
    const bundle = JSON.parse(readFileSync(`${file}.intoto.sigstore.json`, 'utf8'));
    expect(bundle.verificationMaterial.tlogEntries ?? []).toEqual([]);
    expect(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
    // The instance's root lists no transparency log (the mock CA still adds SCTs: its CT log stays): a timestamp is what it asks for.
    const privateRoot = join(dir, 'private-root.json');
    writeFileSync(privateRoot, JSON.stringify({ ...sigstore.trustedRoot, tlogs: [] }));
    const verified = await runCli(['verify-attestation', file, '--bundle', `${file}.intoto.sigstore.json`, '--trusted-root', privateRoot, '--repo', REPO, '--json']);
    expect(verified.code, verified.stdout).toBe(0);
    new Verifier(toTrustMaterial(TrustedRoot.fromJSON({ ...sigstore.trustedRoot, tlogs: [] })), { tlogThreshold: 0, timestampThreshold: 1 }).verify(toSignedEntity(bundleFromJSON(bundle)));
    // A root that lists logs wants an entry: the same bundle fails there.
    const publicRoot = await verifyCli(file, `${file}.intoto.sigstore.json`, '--repo', REPO);
    expect(publicRoot.code).toBe(1);
    expect(JSON.parse(publicRoot.stdout).results[0].failures[0].code).toBe('TLOG_ERROR');
  });
});
