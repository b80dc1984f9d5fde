// The supported library API (src/index.ts, README "The library"): the exact lists of runtime
// exports and of exported types, pinned so that a change to either is deliberate; a line of
// TSDoc on every export; one shape for every error class; and README's library examples
// compiled against the built types.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/fs.js';
import { DIST, ROOT } from './helpers/package.js';

const ks = (await import(DIST)) as Record<string, unknown>;

/** By product, as src/index.ts groups them (sorted here). */
const SUPPORTED = {
  kernels: ['MetadataError', 'parseMetadata', 'serializeBundle', 'signVariant', 'verifyAndCopyVariant', 'verifyVariant'],
  hub: ['HubClient', 'HubError', 'KernelRefusedError', 'LockfileError', 'SignerMemoryError', 'getKernel', 'listVariants', 'lockFromListing', 'lockedIdentity', 'readLockfile', 'writeLockfile'],
  publishers: ['DEFAULT_REFRESH_INTERVAL_MS', 'MAX_OFFLINE_AGE_MS', 'PUBLISHER_LIST_SCHEMA', 'PublisherListError', 'decidePublisher', 'openPublisherList', 'parsePublisherList'],
  models: [
    'IgnorePathError',
    'ModelFilesError',
    'ModelHashMismatch',
    'SignatureFormatError',
    'StatementError',
    'buildStatement',
    'hashModel',
    'parseModelSignature',
    'parseStatement',
    'signModel',
    'statementPayload',
    'verifyModel',
    'verifyModelSignature',
  ],
  attestations: [
    'AttestationFileError',
    'NPM_PUBLISH_PREDICATE',
    'NpmKeysError',
    'ProvenanceEnvironmentError',
    'RELEASE_PREDICATE_TYPES',
    'SLSA_PROVENANCE_V02',
    'SLSA_PROVENANCE_V1',
    'attest',
    'githubAttestationPolicy',
    'parseNpmKeys',
    'readNpmKeys',
    'verifyAttestation',
    'verifyRelease',
  ],
  signing: ['IN_TOTO_PAYLOAD_TYPE', 'IdentityTokenError', 'SigningError', 'resolveIdentityToken', 'signBytes', 'signEnvelope'],
  verifyingAndTrust: [
    'BundleError',
    'PolicyError',
    'SignatureVerificationError',
    'TrustedRootError',
    'allOf',
    'anyOf',
    'certificateIdentity',
    'defaultTrustedRoots',
    'exactly',
    'extensionPolicy',
    'githubReleasesPolicy',
    'githubTrustedRoot',
    'githubWorkflowPolicy',
    'identityPolicy',
    'issuerPolicy',
    'kernelsCommunityPolicy',
    'matching',
    'noIssuerPolicy',
    'oneOf',
    'parseBundle',
    'parsePolicy',
    'parseTrustedRoot',
    'pinnedGitHubTrustedRoot',
    'pinnedTrustedRoot',
    'publicGoodTrustedRoot',
    'readPolicyFile',
    'readTrustedRoot',
    'readTrustedRoots',
    'serviceIdentityPolicy',
    'subjectPolicy',
    'verifyBundle',
    'verifyEnvelopeBundle',
  ],
  digests: [
    'AlgorithmMismatch',
    'DIGEST_ALGORITHMS',
    'Digest',
    'DigestError',
    'DigestFormatError',
    'DigestValidationError',
    'EngineInternalError',
    'HashMismatch',
    'MissingFile',
    'UnknownFile',
    'createNativeBackend',
    'digestBackend',
    'hashTree',
    'hashVariant',
    'nativeUnavailableReason',
    'pureBackend',
  ],
};

/**
 * The names exported only as types, by product as above (sorted here). A class is both a value
 * and a type: it is pinned with the runtime exports.
 */
const SUPPORTED_TYPES = {
  kernels: [
    'BackendType',
    'BytecodeHandled',
    'CopyResult',
    'KernelDependency',
    'KernelMetadata',
    'SignVariantOptions',
    'SignedVariant',
    'VariantName',
    'VariantSelector',
    'VerificationResult',
    'VerificationStatus',
    'VerifyAndCopyOptions',
    'VerifyVariantOptions',
  ],
  hub: ['FetchedKernel', 'GetKernelOptions', 'HubClientOptions', 'HubErrorCode', 'HubFile', 'HubRevision', 'KernelLock', 'KernelRefusedErrorCode', 'LockedIdentity', 'RepoType', 'RevisionSource'],
  models: [
    'HashModelOptions',
    'HashedModel',
    'ModelHashType',
    'ModelManifest',
    'ModelSignature',
    'ModelVerificationResult',
    'ModelViolation',
    'Resource',
    'Serialization',
    'SignModelOptions',
    'SignedModel',
    'VerifiedModelSignature',
    'VerifyModelOptions',
  ],
  attestations: [
    'AssetCheck',
    'AttestOptions',
    'Attestation',
    'AttestationFailure',
    'AttestationFormat',
    'AttestationVerificationResult',
    'GitHubAttestationPolicyOptions',
    'NpmKey',
    'ReleaseAsset',
    'ReleaseSubject',
    'ReleaseVerificationResult',
    'VerifiedAttestation',
    'VerifiedRelease',
    'VerifyAttestationOptions',
    'VerifyReleaseOptions',
  ],
  publishers: [
    'EntryMismatch',
    'OpenPublisherListOptions',
    'PublisherDecision',
    'PublisherEntry',
    'PublisherEntryRef',
    'PublisherList',
    'PublisherListErrorCode',
    'PublisherTrust',
    'RoleState',
    'VerifiedPublisherList',
  ],
  signing: ['SignerOptions', 'SigningErrorCode', 'WitnessOptions'],
  verifyingAndTrust: [
    'Artifact',
    'Bundle',
    'CertificateIdentity',
    'GitHubWorkflowOptions',
    'InTotoStatement',
    'Policy',
    'RefreshOptions',
    'ResolvedTrustedRoot',
    'SignatureVerificationErrorCode',
    'Signer',
    'StringMatch',
    'TrustAnchor',
    'TrustedRoot',
    'TrustedRoots',
  ],
  digests: [
    'DigestAlgorithm',
    'DigestBackend',
    'DigestBackendName',
    'DigestErrorCode',
    'DigestJSON',
    'DigestViolation',
    'EngineInternalErrorCode',
    'FileHashes',
    'HashFilesOptions',
    'HashOptions',
    'HashProgress',
    'HashVariantOptions',
    'VariantHashes',
  ],
};

/**
 * The names dist/index.d.ts exports only as types. src/index.ts re-exports and declares nothing
 * (verbatimModuleSyntax makes it mark each type `type`), so its declarations are `export { ... }
 * from` and `export type { ... } from` statements; any other export statement fails the reading,
 * so that a new form is taught here rather than missed.
 */
function exportedTypes(): string[] {
  const declarations = readFileSync(join(ROOT, 'dist', 'index.d.ts'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const statements = declarations.split(/;\s*$/m).map((statement) => statement.trim()).filter(Boolean);
  return statements.flatMap((statement) => {
    const form = /^export (type )?\{([^}]*)\} from '[^']+'$/.exec(statement.replace(/\s+/g, ' '));
    if (!form) throw new Error(`dist/index.d.ts: an export this test cannot read: ${statement}`);
    const names = form[2]!.split(',').map((name) => name.trim()).filter(Boolean);
    return names.filter((name) => form[1] || name.startsWith('type ')).map((name) => name.replace(/^type /, '').split(' as ').at(-1)!);
  });
}

/** Every error class of the API, made the way the library makes it. */
const ERRORS: Record<string, () => Error> = {
  AttestationFileError: () => new (ks.AttestationFileError as new (m: string) => Error)('m'),
  BundleError: () => new (ks.BundleError as new (m: string) => Error)('m'),
  DigestError: () => new (ks.DigestError as new (c: string, p: string, r: string) => Error)('IO', '/p', 'r'),
  DigestFormatError: () => new (ks.DigestFormatError as new (m: string) => Error)('m'),
  DigestValidationError: () => new (ks.DigestValidationError as new (v: unknown[]) => Error)([]),
  EngineInternalError: () => new (ks.EngineInternalError as new (o: string, m: string) => Error)('hashVariant', 'm'),
  HubError: () => new (ks.HubError as new (m: string) => Error)('m'),
  IdentityTokenError: () => new (ks.IdentityTokenError as new (m: string) => Error)('m'),
  IgnorePathError: () => new (ks.IgnorePathError as new (m: string) => Error)('m'),
  KernelRefusedError: () => new (ks.KernelRefusedError as new (m: string) => Error)('m'),
  LockfileError: () => new (ks.LockfileError as new (m: string) => Error)('m'),
  SignerMemoryError: () => new (ks.SignerMemoryError as new (m: string) => Error)('m'),
  MetadataError: () => new (ks.MetadataError as new (m: string) => Error)('m'),
  ModelFilesError: () => new (ks.ModelFilesError as new (p: string, r: string) => Error)('/p', 'r'),
  NpmKeysError: () => new (ks.NpmKeysError as new (m: string) => Error)('m'),
  PolicyError: () => new (ks.PolicyError as new (m: string) => Error)('m'),
  PublisherListError: () => new (ks.PublisherListError as new (c: string, m: string) => Error)('LIST_INVALID', 'm'),
  ProvenanceEnvironmentError: () => new (ks.ProvenanceEnvironmentError as new (m: string) => Error)('m'),
  SignatureFormatError: () => new (ks.SignatureFormatError as new (m: string) => Error)('m'),
  SignatureVerificationError: () => new (ks.SignatureVerificationError as new (c: string, m: string) => Error)('POLICY_ERROR', 'm'),
  SigningError: () => new (ks.SigningError as new (c: string, m: string) => Error)('INPUT_INVALID', 'm'),
  StatementError: () => new (ks.StatementError as new (m: string) => Error)('m'),
  TrustedRootError: () => new (ks.TrustedRootError as new (m: string) => Error)('m'),
};

describe('the public surface', () => {
  it('exports exactly the supported names', () => {
    expect(Object.keys(ks).sort()).toEqual(Object.values(SUPPORTED).flat().sort());
  });

  it('exports exactly the supported types', () => {
    const types = exportedTypes();
    const pinned = Object.values(SUPPORTED_TYPES).flat();
    const change = { added: types.filter((name) => !pinned.includes(name)).sort(), removed: pinned.filter((name) => !types.includes(name)).sort() };
    // A change to the typed API is deliberate: add the name to SUPPORTED_TYPES (or remove it) here.
    expect(change, 'exported types of dist/index.d.ts that differ from SUPPORTED_TYPES').toEqual({ added: [], removed: [] });
    expect(types.length).toBe(new Set(types).size);
  });

  it('gives every export of src/index.ts a line of TSDoc', () => {
    const lines = readFileSync(join(ROOT, 'src', 'index.ts'), 'utf8').split('\n');
    const undocumented = lines.flatMap((line, i) => (line.startsWith('export ') && !/^\/\*\* .+ \*\/$/.test(lines[i - 1] ?? '') ? [line] : []));
    expect(undocumented).toEqual([]);
  });

  it('gives every error class a name and a code in capitals, and covers each one', () => {
    const classes = Object.keys(ks).filter((name) => name.endsWith('Error'));
    expect(classes.sort()).toEqual(Object.keys(ERRORS).sort());
    for (const [name, make] of Object.entries(ERRORS)) {
      const error = make() as Error & { code?: unknown };
      expect(error).toBeInstanceOf(Error);
      expect([name, error.name, typeof error.code === 'string' && /^[A-Z][A-Z_]*$/.test(error.code)]).toEqual([name, name, true]);
    }
  });

  it("README's library examples compile against the built types", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## The library'), readme.indexOf('## What is hashed'));
    const examples = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(examples.length).toBeGreaterThanOrEqual(7);
    const dir = tempDir();
    // Each example stands alone (readme-examples.test.ts runs them): nothing is taken as given.
    const given = 'export {};\n';
    const files = examples.map((code, i) => {
      const file = join(dir, `example-${i}.mts`);
      writeFileSync(file, `${given}${code}`);
      return file;
    });
    const config = {
      compilerOptions: {
        target: 'es2023',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
        paths: { kernelseal: [join(ROOT, 'dist', 'index.d.ts')] },
      },
      files,
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    let output = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
    } catch (error) {
      output = (error as { stdout?: string }).stdout ?? String(error);
    }
    expect(output).toBe('');
  });
});
