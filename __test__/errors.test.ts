// The rule for errors (docs/architecture.md, "Errors"): a verdict about the user's files is a
// result; a caller's mistake, a broken piece of code the caller passed in (a backend, a policy)
// or a bug is an exception, in every product, never a verdict about the files.
import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { githubActionsClaims, identityToken } from './helpers/mock-sigstore.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { pseudoRandomBytes, tempDir, writeTree } from './helpers/fs.js';
import { DIST, ROOT, internal } from './helpers/package.js';
import { unsignedVariant } from './helpers/variant.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');
type Policy = import('../dist/index.js').Policy;
type DigestBackend = import('../dist/index.js').DigestBackend;

const REPO = 'my-org/relu-kernel';
const sigstore = withMockSigstore();

/** A policy whose code is broken: it throws instead of answering. */
const brokenPolicy: Policy = {
  description: 'a broken policy',
  pinsIssuer: true,
  check() {
    throw new TypeError('broken policy: cannot read properties of undefined');
  },
};

/** A backend whose code is broken: every call throws a TypeError. */
const broken = (): never => {
  throw new TypeError('broken backend: hashFiles is not a function');
};
const brokenBackend: DigestBackend = { name: 'pure', details: 'broken', hashVariant: broken, hashFile: broken, hashFiles: broken };

async function signedVariant(): Promise<string> {
  const dir = unsignedVariant();
  const signer = { method: 'keyless', identityToken: identityToken(githubActionsClaims(REPO)), fulcioURL: sigstore.url, rekorURL: sigstore.url } as const;
  await ks.signVariant(dir, { signer });
  return dir;
}

describe('an internal error is never a verdict about the user files', () => {
  it('kernels: verifyVariant rethrows a broken backend and a broken policy; a good variant still verifies', async () => {
    const dir = await signedVariant();
    const policy = ks.githubWorkflowPolicy({ repository: REPO });
    expect((await ks.verifyVariant(dir, { policy, trustedRoot: sigstore.parsedRoot })).status).toBe('verified');
    await expect(ks.verifyVariant(dir, { policy, trustedRoot: sigstore.parsedRoot, backend: brokenBackend })).rejects.toThrow(TypeError);
    await expect(ks.verifyVariant(dir, { policy: brokenPolicy, trustedRoot: sigstore.parsedRoot })).rejects.toThrow('broken policy');
    await expect(ks.verifyVariant(dir, { trustedRoot: sigstore.parsedRoot } as never)).rejects.toThrow(TypeError); // no trust anchor
  });

  it('kernels: verifyAndCopyVariant rethrows a broken policy and leaves no copy', async () => {
    const dir = await signedVariant();
    const into = tempDir();
    await expect(ks.verifyAndCopyVariant(dir, { policy: brokenPolicy, trustedRoot: sigstore.parsedRoot, into })).rejects.toThrow('broken policy');
    expect(readdirSync(into)).toEqual([]);
  });

  it('models: verifyModel rethrows a broken backend and a missing trust anchor', async () => {
    const dir = writeTree(tempDir('kernelseal-model-'), { 'model.safetensors': pseudoRandomBytes(5000, 3), 'config.json': '{}' });
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pem = { privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString() };
    await ks.signModel(dir, { signer: { method: 'key', privateKey: pem.privateKey } });
    expect((await ks.verifyModel(dir, { key: pem.publicKey })).status).toBe('verified');
    await expect(ks.verifyModel(dir, { key: pem.publicKey, backend: brokenBackend })).rejects.toThrow('broken backend');
    // Before, "no trust anchor" came back as a verdict (signature-invalid) about the model.
    await expect(ks.verifyModel(dir, {} as never)).rejects.toThrow(TypeError);
  });

  it('attestations: verifyAttestation rethrows a broken policy instead of listing it as a failure', async () => {
    const fixture = (...parts: string[]) => join(ROOT, '__test__', 'fixtures', 'attestations', ...parts);
    const options = {
      artifact: { bytes: readFileSync(fixture('npm-sigstore-2.3.1', 'sigstore-2.3.1.tgz')) },
      bundles: [fixture('npm-sigstore-2.3.1', 'sigstore-2.3.1.attestations.json')],
      trustedRoot: await ks.readTrustedRoot(fixture('trust', 'public-good-trusted_root.json')),
      npmKeys: await ks.readNpmKeys(fixture('trust', 'npm-registry-keys.json')),
    };
    expect((await ks.verifyAttestation({ ...options, policy: ks.githubAttestationPolicy({ repo: 'sigstore/sigstore-js' }) })).ok).toBe(true);
    await expect(ks.verifyAttestation({ ...options, policy: brokenPolicy })).rejects.toThrow('broken policy');
  });
});

describe('error codes come from closed unions, and a wrapping error keeps its cause', () => {
  /** What the runtime error must look like: its class, its code, and what it wraps. */
  const caught = async (run: () => unknown) => {
    try {
      await run();
    } catch (error) {
      return error as Error & { code?: string; cause?: unknown };
    }
    throw new Error('expected an error');
  };

  it('parsing: a bundle that is not JSON is BUNDLE_INVALID, caused by the strict JSON error', async () => {
    const error = await caught(() => ks.parseBundle('{"a":1,"a":2}'));
    expect(error).toBeInstanceOf(ks.BundleError);
    expect(error.code).toBe('BUNDLE_INVALID' satisfies import('../dist/index.js').BundleError['code']);
    expect(error.cause).toMatchObject({ name: 'StrictJSONError', kind: 'duplicate-key' });
  });

  it('signing: a key that is not one is KEY_INVALID, caused by what Node said', async () => {
    const error = await caught(() => ks.signBytes(Buffer.from('x'), { method: 'key', privateKey: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }));
    expect(error).toBeInstanceOf(ks.SigningError);
    expect(error.code).toBe('KEY_INVALID' satisfies import('../dist/index.js').SigningErrorCode);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('verifying: a signer the policy does not trust is POLICY_ERROR; a missing file NOT_FOUND with its system error', async () => {
    const dir = await signedVariant();
    const bundle = ks.parseBundle(readFileSync(join(dir, 'metadata.json.sigstore')));
    const other = ks.githubWorkflowPolicy({ repository: 'someone/else' });
    const error = await caught(() => ks.verifyBundle(bundle, { bytes: readFileSync(join(dir, 'metadata.json')) }, sigstore.parsedRoot, { policy: other }));
    expect(error).toBeInstanceOf(ks.SignatureVerificationError);
    expect(error.code).toBe('POLICY_ERROR' satisfies import('../dist/index.js').SignatureVerificationErrorCode);
    const missing = await caught(() => ks.hashVariant('sha256', join(dir, 'no-such-dir'), { backend: ks.pureBackend }));
    expect(missing).toBeInstanceOf(ks.DigestError);
    expect(missing.code).toBe('NOT_FOUND' satisfies import('../dist/index.js').DigestErrorCode);
    expect(missing.cause).toMatchObject({ code: 'ENOENT' });
  });

  it('the Hub and getKernel: codes follow from what happened', () => {
    expect(new ks.HubError('x', undefined, true).code).toBe('HUB_UNREACHABLE');
    expect(new ks.HubError('x', 503).code).toBe('HUB_STATUS');
    expect(new ks.HubError('x').code).toBe('HUB_REFUSED');
    expect(new ks.KernelRefusedError('x').code).toBe('VARIANT_UNAVAILABLE');
    expect(new ks.KernelRefusedError('x', { path: '/v', status: 'signature-missing' }).code).toBe('KERNEL_UNVERIFIED');
  });
});

describe("a reader turns only its file's faults into a verdict or a usage error, never a bug", () => {
  const metadata = readFileSync(join(ROOT, 'examples', 'relu', 'build', 'torch210-cxx11-cpu-x86_64-linux', 'metadata.json'));

  /** Runs `run` with Digest.fromJSON throwing `error`, as a bug in it (or in what it calls) would. */
  const withFromJSONThrowing = async <T>(error: Error, run: () => T | Promise<T>): Promise<T> => {
    const original = ks.Digest.fromJSON;
    ks.Digest.fromJSON = () => {
      throw error;
    };
    try {
      return await run();
    } finally {
      ks.Digest.fromJSON = original;
    }
  };

  it('metadata.json: a digest object that is none is a MetadataError; a TypeError from reading it propagates', async () => {
    expect(() => ks.parseMetadata(metadata)).not.toThrow();
    const refused = await withFromJSONThrowing(new ks.DigestFormatError('digest.files lists "../x"'), () => {
      try {
        ks.parseMetadata(metadata);
      } catch (error) {
        return error;
      }
    });
    expect(refused).toBeInstanceOf(ks.MetadataError);
    expect((refused as Error).message).toBe('digest.files lists "../x"');
    await withFromJSONThrowing(new TypeError('a bug'), () => expect(() => ks.parseMetadata(metadata)).toThrow(TypeError));
    // The real thing: a path that escapes is the file's fault, and says so.
    const escaping = Buffer.from(metadata.toString().replace(/"files": \{\n/, '"files": {\n"../x": "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=",\n'));
    expect(() => ks.parseMetadata(escaping)).toThrow(/^digest.files lists "..\/x": /);
    expect(() => ks.parseMetadata(escaping)).toThrow(ks.MetadataError);
  });

  it('kernelseal digest --check reads metadata.json the same way: DigestFormatError is its reason, a TypeError propagates', async () => {
    const { readMetadataDigest, MetadataReadError } = (await import(internal('kernels/read-digest.js'))) as typeof import('../dist/kernels/read-digest.js');
    const dir = writeTree(tempDir(), { 'metadata.json': metadata });
    await expect(withFromJSONThrowing(new ks.DigestFormatError('digest must be an object'), () => readMetadataDigest(dir))).rejects.toThrow(MetadataReadError);
    await expect(withFromJSONThrowing(new TypeError('a bug'), () => readMetadataDigest(dir))).rejects.toThrow(TypeError);
  });

  it('the command line: what parseArgs refuses is a usage error; an option table it cannot take is a bug', async () => {
    const { parseCommandLine, UsageError } = (await import(internal('cli/usage.js'))) as typeof import('../dist/cli/usage.js');
    expect(() => parseCommandLine(['--nope'], { json: { type: 'boolean' } })).toThrow(UsageError);
    expect(() => parseCommandLine(['--count', '3'], { count: { type: 'number' } } as never)).toThrow(TypeError);
    expect(() => parseCommandLine(['--count', '3'], { count: { type: 'number' } } as never)).not.toThrow(UsageError);
  });
});
