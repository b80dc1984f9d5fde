import { afterAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { DIST, testdata } from './helpers/package.js';

// Property tests: random and mutated inputs to every parser that sees untrusted data. Each
// must end in a value or in its own error type with a reason: never a crash, a hang, or an
// unexpected exception. Seeded and bounded for CI; KERNELSEAL_FUZZ_RUNS=100000 (npm run fuzz)
// for a long run.
const ks = (await import(DIST)) as typeof import('../dist/index.js');
const { main } = (await import(new URL('../dist/cli/main.js', import.meta.url).href)) as typeof import('../dist/cli/main.js');

const GHA = 'https://token.actions.githubusercontent.com';
const RUNS = Number(process.env.KERNELSEAL_FUZZ_RUNS ?? 1000);
const SEED = Number(process.env.KERNELSEAL_FUZZ_SEED ?? 20261122);
/** Targets that verify signatures run slower: fewer inputs in CI, all of them in a long run. */
const SLOW_RUNS = process.env.KERNELSEAL_FUZZ_RUNS ? RUNS : 500;
const ran = new Map<string, number>();
afterAll(() => {
  // The counts go to the closing notes: how many inputs each target ran.
  console.log(`fuzz seed ${SEED}: ${[...ran].map(([target, n]) => `${target} ${n}`).join(', ')}`);
});

function check<T>(target: string, arbitrary: fc.Arbitrary<T>, property: (value: T) => void | Promise<void>, runs = RUNS) {
  return fc.assert(
    fc.asyncProperty(arbitrary, async (value) => {
      ran.set(target, (ran.get(target) ?? 0) + 1);
      await property(value);
    }),
    { numRuns: runs, seed: SEED, endOnFailure: true },
  );
}

/** Mutations of a valid input: truncation, bit flips, insertions (NUL, invalid UTF-8, quotes). */
function mutated(original: Buffer): fc.Arbitrary<Buffer> {
  const truncate = fc.nat({ max: original.length }).map((n) => original.subarray(0, n));
  const flip = fc.tuple(fc.nat({ max: original.length - 1 }), fc.integer({ min: 0, max: 7 })).map(([at, bit]) => {
    const copy = Buffer.from(original);
    copy[at]! ^= 1 << bit;
    return copy;
  });
  const insert = fc
    .tuple(fc.nat({ max: original.length }), fc.constantFrom(Buffer.from([0]), Buffer.from([0xff, 0xfe]), Buffer.from('"'), Buffer.from('{'), Buffer.from('1e999'), Buffer.from(',"name":"x"')))
    .map(([at, bytes]) => Buffer.concat([original.subarray(0, at), bytes, original.subarray(at)]));
  return fc.oneof(truncate, flip, insert, fc.uint8Array({ maxLength: 256 }).map((a) => Buffer.from(a)));
}

const metadata = Buffer.from(
  JSON.stringify({
    name: 'relu',
    id: '_relu_abc',
    version: 1,
    license: 'Apache-2.0',
    'python-depends': ['torch'],
    backend: { type: 'cuda', archs: ['8.0'] },
    digest: { algorithm: 'sha256', files: { '__init__.py': 'uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=' } },
  }),
);

describe('fuzzing the parsers of untrusted input', () => {
  it('metadata.json: bytes, mutations, deep nesting, huge numbers, duplicate keys', async () => {
    const parse = (bytes: Uint8Array) => {
      try {
        ks.parseMetadata(bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(ks.MetadataError);
        expect((error as Error).message.length).toBeGreaterThan(0);
      }
    };
    await check('metadata (mutated)', mutated(metadata), parse);
    await check('metadata (JSON values)', fc.jsonValue({ maxDepth: 6 }), (value) => parse(Buffer.from(JSON.stringify(value) ?? 'null')));
    await check('metadata (objects)', fc.dictionary(fc.constantFrom('name', 'id', 'version', 'license', 'python-depends', 'backend', 'digest', 'kernel-depends'), fc.anything({ maxDepth: 3 })), (value) =>
      parse(Buffer.from(JSON.stringify(value) ?? 'null')),
    );
    // Fixed cases the random ones may miss.
    expect(() => ks.parseMetadata(Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`))).toThrow(ks.MetadataError);
    expect(() => ks.parseMetadata(Buffer.from(metadata.toString().replace('"version":1', '"version":1e400')))).toThrow(/version must be an unsigned integer/);
    expect(() => ks.parseMetadata(Buffer.from(metadata.toString().replace('"name":"relu"', '"name":"relu","name":"evil"')))).toThrow(/duplicate key "name"/);
    expect(() => ks.parseMetadata(Buffer.from(metadata.toString().replace('{"algorithm"', '{"files":{},"algorithm"')))).toThrow(/duplicate key "files"/);
  });

  it('the digest object: unsafe paths, wrong lengths, wrong types', async () => {
    // A fault of the value is a DigestFormatError (metadata.ts makes it a verdict); anything
    // else would be a bug, which no reader may turn into one.
    await check('Digest.fromJSON', fc.anything({ maxDepth: 4 }), (value) => {
      try {
        ks.Digest.fromJSON(value);
      } catch (error) {
        expect(error).toBeInstanceOf(ks.DigestFormatError);
      }
    });
    const hash = 'uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=';
    await check('digest paths', fc.string({ unit: 'binary', maxLength: 40 }), (path) => {
      let accepted = true;
      try {
        ks.Digest.fromJSON({ algorithm: 'sha256', files: { [path]: hash } });
      } catch {
        accepted = false;
      }
      // Accepted paths are exactly the relative ones: no escape from the variant.
      const segments = path.split('/');
      const safe = path !== '' && !path.startsWith('/') && !path.includes('\\') && !path.includes('\0') && !segments.some((s) => s === '' || s === '.' || s === '..');
      expect(accepted).toBe(safe);
    });
  });

  it('policy files: random structures never trust anyone by accident', async () => {
    const leaf = fc.record(
      {
        identity: fc.oneof(fc.string(), fc.record({ regexp: fc.oneof(fc.string(), fc.constantFrom('.*', 'https://github\\.com/.*', 'https://github\\.com/ev.*', '.+/.+')) })),
        issuer: fc.oneof(fc.string(), fc.record({ oneOf: fc.array(fc.string()) }), fc.constantFrom(GHA, { regexp: '.*' })),
        predicate: fc.record({ workflowRepository: fc.constant('https://github.com/me/x') }),
        builtin: fc.constantFrom('kernels-community', 'anyone'),
        github: fc.record({ repository: fc.string(), ref: fc.string() }, { requiredKeys: [] }),
        extensions: fc.dictionary(fc.constantFrom('1.3.6.1.4.1.57264.1.12', '1.3.6.1.4.1.57264.1.8', 'x'), fc.string()),
      },
      { requiredKeys: [] },
    );
    // Leaves on GitHub Actions, the shared issuer: only those that name the signer may be read.
    const githubLeaf = fc.record(
      {
        issuer: fc.constantFrom(GHA, { regexp: '.*' }, { regexp: 'https://token\\.actions\\.githubusercontent\\.com' }),
        identity: fc.constantFrom({ regexp: '.*' }, { regexp: 'https://github\\.com/.*' }, { regexp: 'https://github\\.com/ev.*' }, { regexp: 'https://github\\.com/me/.*' }),
        predicate: fc.record({ workflowRepository: fc.constant('https://github.com/me/x') }),
        extensions: fc.dictionary(fc.constantFrom('1.3.6.1.4.1.57264.1.12', '1.3.6.1.4.1.57264.1.14'), fc.constantFrom('refs/heads/main', { regexp: '.*' }, { regexp: 'https://github\\.com/me/.*' })),
      },
      { requiredKeys: ['issuer'] },
    );
    const policy = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, githubLeaf, fc.record({ anyOf: fc.array(tie('node'), { maxLength: 3 }) }), fc.record({ allOf: fc.array(tie('node'), { maxLength: 3 }) })),
    })).node;
    const stranger = { subjectAlternativeName: 'https://evil.example/x', extensions: new Map([['1.3.6.1.4.1.57264.1.8', 'https://evil.example']]), undecodable: new Map() };
    const githubStranger = {
      subjectAlternativeName: 'https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main',
      extensions: new Map([['1.3.6.1.4.1.57264.1.8', GHA], ['1.3.6.1.4.1.57264.1.12', 'https://github.com/evil/x']]),
      undecodable: new Map(),
    };
    const claimsToBeMine = { predicateType: 'https://slsa.dev/provenance/v1', predicate: { buildDefinition: { externalParameters: { workflow: { repository: 'https://github.com/me/x' } } } } };
    await check('policy files', fc.oneof(policy, fc.anything({ maxDepth: 4 })), (json) => {
      let parsed;
      try {
        parsed = ks.parsePolicy(json);
      } catch (error) {
        expect(error).toBeInstanceOf(ks.PolicyError);
        return;
      }
      expect(parsed.pinsIssuer).toBe(true);
      // A stranger from another issuer satisfies no policy that pins an issuer they do not have.
      const reason = parsed.check(stranger);
      if (reason === undefined) expect(JSON.stringify(json)).toContain('https://evil.example');
      // Nor one on GitHub Actions, which anyone may use, unless the policy names them: not even
      // with provenance that claims to be someone else's (the signer writes it).
      if (parsed.check(githubStranger, claimsToBeMine) === undefined) expect(JSON.stringify(json)).toContain('evil');
    });
    expect(() => ks.parsePolicy(JSON.parse(`${'{"anyOf":['.repeat(1000)}{"builtin":"kernels-community"}${']}'.repeat(1000)}`))).toThrow(/nest more than 16 deep/);
  });

  it('bundles: mutated real bundles fail with a reason or verify as the original', async () => {
    const path = testdata('sigstore-bundles', 'production', 'bundle_v3_github.whl.sigstore');
    const original = readFileSync(path);
    const wheel = { digest: Buffer.from('c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201', 'hex'), algorithm: 'sha256' as const };
    const policy = ks.githubWorkflowPolicy({ repository: 'trailofbits/rfc8785.py' });
    const reference = ks.verifyBundle(ks.parseBundle(original), wheel, ks.pinnedTrustedRoot(), { policy });
    await check(
      'bundles',
      mutated(original),
      (bytes) => {
        let signer;
        try {
          signer = ks.verifyBundle(ks.parseBundle(bytes), wheel, ks.pinnedTrustedRoot(), { policy });
        } catch (error) {
          expect(error instanceof ks.BundleError || error instanceof ks.SignatureVerificationError, String(error)).toBe(true);
          return;
        }
        expect(signer).toEqual(reference); // e.g. a flip inside insignificant whitespace
      },
      SLOW_RUNS,
    );
  });

  it('bundle fields: malformed DER, base64 and text in each field a verifier parses end as a verdict with a reason', async () => {
    // Real bundles of each shape: an RFC 3161 timestamp with a Rekor v2 checkpoint, a Rekor v1
    // promise and proof, DSSE envelopes, a v0.1 certificate chain. Each run replaces one field
    // that sigstore-js or kernelseal parses (a DER structure, base64, a checkpoint's text) with
    // something malformed. Every outcome is a BundleError or a SignatureVerificationError
    // (verifyBundle's verdicts), or the original signer; never a TypeError, never a crash.
    const staging = await ks.readTrustedRoot(testdata('trust', 'staging-trusted_root.json'));
    const bundleFile = (...parts: string[]) => readFileSync(testdata('sigstore-bundles', ...parts));
    const statement = JSON.parse(bundleFile('sigstore-js', 'statement.json').toString('utf8'));
    const npmPackage = { digest: Buffer.from(statement.subject[0].digest.sha512, 'hex'), algorithm: 'sha512' as const };
    const identity = (san: string, issuer: string) => ({ policy: ks.identityPolicy(ks.exactly(san), ks.exactly(issuer)) });
    const cases = [
      { bundle: bundleFile('staging-rekor-v2', 'staging-rekor-v2.txt.sigstore.json'), artifact: { bytes: bundleFile('staging-rekor-v2', 'staging-rekor-v2.txt') }, root: staging, anchor: identity('jku@goto.fi', 'https://github.com/login/oauth') },
      {
        bundle: bundleFile('production', 'bundle_v3_github.whl.sigstore'),
        artifact: { digest: Buffer.from('c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201', 'hex'), algorithm: 'sha256' as const },
        root: ks.pinnedTrustedRoot(),
        anchor: { policy: ks.githubWorkflowPolicy({ repository: 'trailofbits/rfc8785.py' }) },
      },
      ...['bundleV03-dsse.sigstore', 'bundleV01-full-cert-chain.sigstore', 'bundleV02-intoto.sigstore'].map((name) => ({
        bundle: bundleFile('sigstore-js', name),
        artifact: npmPackage,
        root: ks.pinnedTrustedRoot(),
        anchor: identity('brian@dehamer.com', 'https://github.com/login/oauth'),
      })),
    ];
    const originals = cases.map((c) => ks.verifyBundle(ks.parseBundle(c.bundle), c.artifact, c.root, c.anchor));

    // Paths (in the bundle's JSON) of the fields parsed as DER, base64 or text, where present.
    const FIELDS = [
      ['verificationMaterial', 'timestampVerificationData', 'rfc3161Timestamps', 0, 'signedTimestamp'],
      ['verificationMaterial', 'certificate', 'rawBytes'],
      ['verificationMaterial', 'x509CertificateChain', 'certificates', 0, 'rawBytes'],
      ['verificationMaterial', 'x509CertificateChain', 'certificates', 1, 'rawBytes'],
      ['verificationMaterial', 'tlogEntries', 0, 'canonicalizedBody'],
      ['verificationMaterial', 'tlogEntries', 0, 'logIndex'],
      ['verificationMaterial', 'tlogEntries', 0, 'integratedTime'],
      ['verificationMaterial', 'tlogEntries', 0, 'logId', 'keyId'],
      ['verificationMaterial', 'tlogEntries', 0, 'inclusionPromise', 'signedEntryTimestamp'],
      ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'logIndex'],
      ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'treeSize'],
      ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'rootHash'],
      ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'hashes', 0],
      ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof', 'checkpoint', 'envelope'],
      ['dsseEnvelope', 'payload'],
      ['dsseEnvelope', 'payloadType'],
      ['dsseEnvelope', 'signatures', 0, 'sig'],
      ['dsseEnvelope', 'signatures', 0, 'keyid'],
      ['messageSignature', 'signature'],
      ['messageSignature', 'messageDigest', 'digest'],
    ] as const;
    const get = (json: unknown, path: readonly (string | number)[]) => path.reduce<unknown>((node, key) => (node as Record<string | number, unknown> | undefined)?.[key], json);
    const set = (json: unknown, path: readonly (string | number)[], value: unknown) => {
      const parent = get(json, path.slice(0, -1)) as Record<string | number, unknown>;
      parent[path[path.length - 1]!] = value;
    };
    /** A random DER element: a tag, a length (sometimes wrong), and contents (sometimes nested). */
    const der: fc.Arbitrary<Buffer> = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.tuple(fc.constantFrom(0x02, 0x04, 0x05, 0x06, 0x0c, 0x17, 0x18, 0x30, 0x31, 0xa0, 0xa3, 0x80), fc.uint8Array({ maxLength: 12 }), fc.integer({ min: -2, max: 2 })).map(([tag, body, skew]) =>
          Buffer.concat([Buffer.from([tag, Math.max(0, Math.min(127, body.length + skew))]), Buffer.from(body)]),
        ),
        fc.tuple(fc.constantFrom(0x30, 0x31, 0xa0), fc.array(tie('node'), { maxLength: 4 })).map(([tag, subs]) => {
          const body = Buffer.concat(subs as Buffer[]);
          return Buffer.concat([Buffer.from(body.length < 128 ? [tag, body.length] : [tag, 0x82, body.length >> 8, body.length & 0xff]), body]);
        }),
      ),
    })).node as fc.Arbitrary<Buffer>;
    /** The field's own bytes, altered: truncated, a bit flipped, or a DER element spliced in. */
    const alter = (bytes: Buffer) =>
      fc.oneof(
        fc.nat({ max: bytes.length }).map((n) => bytes.subarray(0, n)),
        fc.tuple(fc.nat({ max: Math.max(0, bytes.length - 1) }), fc.integer({ min: 0, max: 7 })).map(([at, bit]) => {
          const copy = Buffer.from(bytes);
          if (copy.length > 0) copy[at]! ^= 1 << bit;
          return copy;
        }),
        fc.tuple(fc.nat({ max: bytes.length }), der).map(([at, inserted]) => Buffer.concat([bytes.subarray(0, at), inserted, bytes.subarray(at)])),
      );
    const value = (original: unknown) => {
      const text = String(original);
      const asBytes = Buffer.from(text, 'base64');
      return fc.oneof(
        fc.constant(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x0a]).toString('base64')), // a SEQUENCE holding one INTEGER
        der.map((b) => b.toString('base64')),
        alter(asBytes).map((b) => b.toString('base64')),
        alter(Buffer.from(text)).map((b) => b.toString('latin1')), // the text itself (a checkpoint, a number)
        fc.constantFrom('', '-1', '18446744073709551616', 'not base64!', '— x y\n', '0'),
      );
    };
    const mutation = fc.nat({ max: cases.length - 1 }).chain((index) => {
      const json = JSON.parse(cases[index]!.bundle.toString('utf8'));
      const present = FIELDS.filter((path) => get(json, path) !== undefined);
      return fc.nat({ max: present.length - 1 }).chain((f) => value(get(json, present[f]!)).map((v) => ({ index, path: present[f]!, value: v })));
    });
    await check('bundle fields', mutation, ({ index, path, value: v }) => {
      const c = cases[index]!;
      const json = JSON.parse(c.bundle.toString('utf8'));
      set(json, path, v);
      let signer;
      try {
        signer = ks.verifyBundle(ks.parseBundle(JSON.stringify(json)), c.artifact, c.root, c.anchor);
      } catch (error) {
        expect(error instanceof ks.BundleError || error instanceof ks.SignatureVerificationError, `${path.join('.')} = ${JSON.stringify(v)}: ${(error as Error).stack}`).toBe(true);
        expect((error as Error).message).not.toBe('');
        return;
      }
      expect(signer).toEqual(originals[index]); // e.g. the same bytes in another base64 spelling
    }, SLOW_RUNS);
  });

  it('model signatures: mutated released signatures are refused with a reason or verify as the original', async () => {
    const dir = testdata('model-signing', 'model-transparency', 'scripts', 'tests', 'v1.1.0-elliptic-key');
    const original = readFileSync(`${dir}/model.sig`);
    const key = readFileSync(testdata('model-signing', 'model-transparency', 'scripts', 'tests', 'keys', 'certificate', 'signing-key-pub.pem'), 'utf8');
    const root = ks.pinnedTrustedRoot();
    const verdict = (bytes: Buffer) => {
      let signature;
      try {
        signature = ks.parseModelSignature(bytes.toString('utf8'));
      } catch (error) {
        expect(error instanceof ks.SignatureFormatError, String(error)).toBe(true);
        return 'bundle-invalid';
      }
      try {
        const { legacyEncoding } = ks.verifyModelSignature(signature, { key }, root);
        ks.parseStatement(signature.envelope.payload, { legacyEncoding });
        return 'verified';
      } catch (error) {
        expect(error instanceof ks.SignatureVerificationError || error instanceof ks.StatementError, String(error)).toBe(true);
        return 'refused';
      }
    };
    expect(verdict(original)).toBe('verified');
    await check('model signatures', mutated(original), (bytes) => {
      const result = verdict(bytes);
      // A change that still verifies can only be one that leaves the signed bytes as they were.
      if (result === 'verified') expect(ks.parseModelSignature(bytes.toString('utf8')).envelope).toEqual(ks.parseModelSignature(original.toString('utf8')).envelope);
    });
  });

  it('model statements: any JSON a trusted signer could sign ends in a manifest or a StatementError', async () => {
    await check('model statements', fc.oneof(fc.json(), fc.jsonValue().map((v) => JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', predicateType: 'https://model_signing/signature/v1.0', subject: [{ name: 'm', digest: { sha256: '0'.repeat(64) } }], predicate: v }))), (text) => {
      try {
        ks.parseStatement(Buffer.from(text));
      } catch (error) {
        expect(error instanceof ks.StatementError, String(error)).toBe(true);
      }
    });
  });

  it('verify-bundle arguments: any command line ends in exit 0, 1 or 2', async () => {
    const bundle = testdata('sigstore-conformance', 'happy-path-v0.3', 'bundle.sigstore.json');
    const token = fc.constantFrom(
      '--bundle', bundle, '--key', '--certificate-identity', '--certificate-identity-regexp', '(', '.*',
      '--certificate-oidc-issuer', 'https://token.actions.githubusercontent.com', '--trusted-root', '/nonexistent', '--offline',
      '--json', '--policy', 'kernels-community', 'sha256:00', `sha256:${'a'.repeat(64)}`, testdata('sigstore-conformance', 'a.txt'), '', '-', '--', '\0', '--bundle=',
    );
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const writeErr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await check('verify-bundle arguments', fc.array(fc.oneof(token, fc.string({ maxLength: 8 })), { maxLength: 10 }), async (args) => {
        const code = await main(['verify-bundle', ...args, '--offline']);
        expect([0, 1, 2]).toContain(code);
      }, SLOW_RUNS);
    } finally {
      write.mockRestore();
      writeErr.mockRestore();
    }
  });
});
