import { basename, join, resolve } from 'node:path';
import { metadataMismatch, parseVariantName } from './variant-name.js';
import { buildTargetMismatch } from './build-target.js';
import type { HashOptions } from '../hashing/backend.js';
import type { DigestBackend, VariantHashes } from '../hashing/backend.js';
import { Digest } from '../digest/digest.js';
import { readBounded } from '../fs/read-bounded.js';
import { DigestError } from '../hashing/errors.js';
import { MAX_METADATA_BYTES, MetadataError, parseMetadata, type KernelMetadata } from './metadata.js';
import { resignedBy, sourceMismatch } from './source-provenance.js';
import { verifyVariantProvenance, type VariantProvenance } from './variant-provenance.js';
import { BundleError, parseBundle, type Bundle } from '../sigstore/bundle.js';
import { pinnedTrustedRoot } from '../sigstore/trusted-root.js';
import { checkTrustAnchor } from '../sigstore/trust-anchor.js';
import { SignatureVerificationError, verifyBundle, type Signer, type TrustAnchor, type TrustedRoots } from '../sigstore/verify-bundle.js';
import type { DistributiveOmit } from '../types.js';
import type { BytecodeHandled, VerificationResult } from './result.js';
import { removeBytecode, sortUnhashed, type BytecodeHandling } from '../hashing/unhashed-entries.js';
import { hashTreeRaw } from '../hashing/hash-variant.js';

/** Largest metadata.json.sigstore read: real bundles are a few kB. */
export const MAX_BUNDLE_BYTES = 16 * 1024 * 1024;

export type VerifyVariantOptions = TrustAnchor &
  VerifyFilesOptions & {
    /** Default: the public-good root pinned in this package (no network). Several: the one that issued the certificate. */
    trustedRoot?: TrustedRoots;
    /**
     * When the source metadata.json states is not the one the signing certificate names: fail
     * (default, status `source-mismatch`), or verify with a warning (a workflow that signs
     * builds made by another run: the signature then vouches for files its run did not build).
     */
    sourceMismatch?: 'fail' | 'warn';
    /** Also verify the variant's SLSA provenance (sign --provenance), with the same trust: variant-provenance.ts. */
    provenance?: boolean;
  };

/** What hashing the files needs, and nothing of whom to trust. */
export type VerifyFilesOptions = HashOptions & {
  /** Default: the selected digest backend. */
  backend?: DigestBackend;
  /** Python bytecode in the variant: refused (default), removed, or allowed (src/hashing/unhashed-entries.ts). */
  bytecode?: BytecodeHandling;
};

/**
 * Verifies a kernel variant: the signature over the raw bytes of metadata.json, the signer
 * against the policy (or key), then every file against the signed digest. Steps run in the
 * order of docs/design.md section 5 and the first that fails decides the result; metadata is parsed
 * only after its signature holds. Never throws for a bad variant: the result says what failed.
 * Throws only when cancelled, or when no policy or key is given.
 */
export async function verifyVariant(path: string, options: VerifyVariantOptions): Promise<VerificationResult> {
  // Once the signature holds, the files are hashed with SHA-256 (what kernels sign with) while
  // the signed metadata is parsed and its digest read: a digest of 100,000 files takes as long
  // to read as the files take to hash. Another algorithm, or a failing step, cancels it.
  const cancel = new AbortController();
  let early: Promise<VariantHashes> | undefined;
  const signed = await verifySignedMetadata(path, options, () => {
    early = hashTreeRaw(EARLY_ALGORITHM, path, { ...options, signal: options.signal ? AbortSignal.any([options.signal, cancel.signal]) : cancel.signal });
    early.catch(() => {}); // awaited below, or abandoned
  });
  if ('result' in signed) {
    cancel.abort();
    return signed.result;
  }
  const { signer, metadata, digest, sourceWarning, sourceNotCompared } = signed.value;
  const provenance = await checkProvenance(path, signed.value, options);
  if ('result' in provenance) {
    cancel.abort();
    return provenance.result;
  }
  if (digest.algorithm !== EARLY_ALGORITHM) cancel.abort();
  const files = await checkFiles(path, digest, options, stopAt(path), digest.algorithm === EARLY_ALGORITHM ? early : undefined);
  if ('result' in files) return files.result;
  return { path, status: 'verified', signer, metadata, digest, ...(files.value.bytecode ? { bytecode: files.value.bytecode } : {}), ...(sourceWarning ? { sourceMismatch: sourceWarning } : {}), ...(sourceNotCompared ? { sourceNotCompared } : {}), ...(provenance.value ? { provenance: provenance.value } : {}) };
}

/**
 * With `options.provenance`, the variant's SLSA provenance beside `path`, verified with the same
 * trust over the signed metadata.json (variant-provenance.ts); the failing result when it does
 * not hold. verifyVariant and verifyAndCopyVariant both ask it, after the signature, before the files.
 */
export async function checkProvenance(path: string, signed: SignedMetadata, options: VerifyVariantOptions): Promise<Step<VariantProvenance | undefined>> {
  if (!options.provenance) return { value: undefined };
  const checked = await verifyVariantProvenance(path, signed.metadataBytes, signed.metadata, options, options.trustedRoot ?? pinnedTrustedRoot());
  if ('reason' in checked) return { result: { path, status: 'provenance-invalid', reason: checked.reason } };
  return { value: checked.value };
}

/**
 * Steps 7 and 8 on their own: re-hashes the files of `path` with the digest's algorithm, refuses
 * entries no digest covers, then handles Python bytecode as `options.bytecode` says. A value
 * when every file matches the (signed) `digest`, else the failing result.
 */
export async function verifyFiles(path: string, digest: Digest, options: VerifyFilesOptions): Promise<Step<{ bytecode?: BytecodeHandled }>> {
  return checkFiles(path, digest, options, stopAt(path));
}

/** What steps 1 to 6 establish: who signed which metadata, and the bytes they signed. */
export interface SignedMetadata {
  signer: Signer;
  metadata: KernelMetadata;
  digest: Digest;
  metadataBytes: Uint8Array;
  bundleBytes: Uint8Array;
  /** The source mismatch a caller chose to be warned of (sourceMismatch: 'warn'). */
  sourceWarning?: string;
  /** Why the source was not compared: the policy declares the signer a re-signer (resignedBy). */
  sourceNotCompared?: string;
}

/**
 * Steps 1 to 6 of docs/design.md section 5: the bundle, the signature over the raw bytes of
 * metadata.json and its signer, the signed metadata and its digest. `onSignatureHolds` is
 * called once the signature and signer hold, before the metadata is parsed. The files themselves are
 * left to the caller (verifyVariant hashes them in place, verifyAndCopyVariant as it copies,
 * getKernel unless a receipt vouches for them).
 */
export async function verifySignedMetadata(path: string, options: VerifyVariantOptions, onSignatureHolds?: () => void): Promise<Step<SignedMetadata>> {
  checkTrustAnchor(options); // a caller's mistake throws; it is no verdict about the variant
  const stop = stopAt(path);
  const bundleBytes = await readBundle(path, stop);
  if ('result' in bundleBytes) return bundleBytes;
  const bundle = parse(bundleBytes.value, stop);
  if ('result' in bundle) return bundle;
  const metadataBytes = await readMetadata(path, stop);
  if ('result' in metadataBytes) return metadataBytes;
  const signer = checkSignature(bundle.value, metadataBytes.value, options, stop);
  if ('result' in signer) return signer;
  onSignatureHolds?.();
  const metadata = checkMetadata(path, metadataBytes.value, stop);
  if ('result' in metadata) return metadata;
  // 5b. The source the metadata states against the one the certificate names, unless the
  // policy declares the signer a re-signer of other runs' builds (then the result says so).
  const resigned = resignedBy(signer.value, 'policy' in options ? options.policy : undefined);
  const mismatch = resigned ? undefined : sourceMismatch(metadata.value, signer.value);
  if (mismatch && options.sourceMismatch !== 'warn') return stop({ status: 'source-mismatch', reason: mismatch, signer: signer.value });
  const digest = metadata.value.digest;
  if (!digest) return stop({ status: 'digest-missing' });
  return { value: { signer: signer.value, metadata: metadata.value, digest, metadataBytes: metadataBytes.value, bundleBytes: bundleBytes.value, ...(mismatch ? { sourceWarning: mismatch } : {}), ...(resigned ? { sourceNotCompared: resigned } : {}) } };
}

/** What verifyVariant starts hashing with as soon as the signature holds: the kernels default. */
const EARLY_ALGORITHM = 'sha256';

/** The outcome of one step: go on with a value, or stop with a result. */
export type Step<T> = { value: T } | { result: VerificationResult };

const stopAt =
  (path: string): Stop =>
  (result) => ({ result: { path, ...result } as VerificationResult });

export type Stop = (result: DistributiveOmit<VerificationResult, 'path'>) => Step<never>;

/** 1. The bundle file, read whole (bounded). */
async function readBundle(dir: string, stop: Stop): Promise<Step<Uint8Array>> {
  const file = join(dir, 'metadata.json.sigstore');
  const read = await readBounded(file, MAX_BUNDLE_BYTES);
  if ('missing' in read) return stop({ status: 'signature-missing' });
  if ('error' in read) return stop({ status: 'bundle-invalid', reason: read.error });
  return { value: read.bytes };
}

/** 2. A valid Sigstore bundle. */
function parse(bytes: Uint8Array, stop: Stop): Step<Bundle> {
  try {
    return { value: parseBundle(bytes) };
  } catch (error) {
    if (!(error instanceof BundleError)) throw error; // a bug or a broken caller's code: no verdict (docs/architecture.md, Errors)
    return stop({ status: 'bundle-invalid', reason: error.message });
  }
}

/** 3. The raw bytes of metadata.json: what was signed, and the only bytes ever parsed. */
async function readMetadata(dir: string, stop: Stop): Promise<Step<Uint8Array>> {
  const read = await readBounded(join(dir, 'metadata.json'), MAX_METADATA_BYTES);
  if ('missing' in read) return stop({ status: 'metadata-missing' });
  // Too large or unreadable: refused before its signature can even be checked.
  if ('error' in read) return stop({ status: 'metadata-invalid', reason: read.error });
  return { value: read.bytes };
}

/**
 * 4. The signature over those bytes, and its signer against the policy or key. A message
 * signature only (design.md section 5: what `cosign sign-blob` makes, and all the reference
 * verifies): a DSSE envelope is a statement about the bytes (a scan, an SBOM), which a trusted
 * identity may make about files it never built; it is no signature of the metadata.
 */
function checkSignature(bundle: Bundle, metadata: Uint8Array, anchor: TrustAnchor & { trustedRoot?: TrustedRoots }, stop: Stop): Step<Signer> {
  if (bundle.content.$case !== 'messageSignature') {
    return stop({ status: 'signature-invalid', reason: 'the bundle holds a DSSE envelope (an attestation about metadata.json), not a signature of it: kernel metadata is signed as a message (cosign sign-blob)' });
  }
  try {
    return { value: verifyBundle(bundle, { bytes: metadata }, anchor.trustedRoot ?? pinnedTrustedRoot(), anchor) };
  } catch (error) {
    if (!(error instanceof SignatureVerificationError)) throw error; // a bug or a broken caller's code: no verdict (docs/architecture.md, Errors)
    return stop({ status: 'signature-invalid', reason: error.message });
  }
}

/**
 * 5. The signed metadata, by the schema; and, where the directory is named as a variant, for
 * that variant as far as the metadata says (variant-name.ts, metadataMismatch): a loader picks a
 * variant by its name, so a signed CPU build copied under a CUDA variant's name must not verify
 * as that variant.
 */
function checkMetadata(dir: string, bytes: Uint8Array, stop: Stop): Step<KernelMetadata> {
  let metadata: KernelMetadata;
  try {
    metadata = parseMetadata(bytes);
  } catch (error) {
    if (!(error instanceof MetadataError)) throw error; // a bug or a broken caller's code: no verdict (docs/architecture.md, Errors)
    return stop({ status: 'metadata-invalid', reason: error.message });
  }
  const variant = parseVariantName(basename(resolve(dir)));
  const mismatch = variant && metadataMismatch(variant, metadata.backend);
  if (mismatch) return stop({ status: 'metadata-invalid', reason: mismatch });
  return { value: metadata };
}

/**
 * 7. Every file re-hashed with the signed digest's algorithm and compared; no entry left out
 * that a loader could read; the signed shared objects built for the platform the name says.
 * 8. Python bytecode, only once everything else holds.
 */
async function checkFiles(dir: string, expected: Digest, options: VerifyFilesOptions, stop: Stop, hashed?: Promise<VariantHashes>): Promise<Step<{ bytecode?: BytecodeHandled }>> {
  let tree: VariantHashes;
  try {
    tree = await (hashed ?? hashTreeRaw(expected.algorithm, dir, options));
  } catch (error) {
    if (error instanceof DigestError) return stop({ status: 'hash-failed', reason: error.message });
    throw error; // cancellation, or a bug: not a verdict about the variant
  }
  const { bytecode, refused } = sortUnhashed(tree.unhashed);
  if (refused.length > 0) return stop({ status: 'entry-refused', entries: refused });
  const violations = expected.violationsOfRaw(expected.algorithm, tree.paths, tree.digests);
  if (violations.length > 0) return stop({ status: 'digest-mismatch', violations });
  const platform = await checkPlatform(basename(resolve(dir)), dir, tree.paths);
  if (platform) return stop(platform);
  if (bytecode.length === 0) return { value: {} };
  switch (options.bytecode ?? 'refuse') {
    case 'refuse':
      return stop({ status: 'bytecode-present', paths: bytecode });
    case 'remove':
      await removeBytecode(dir, bytecode);
      return { value: { bytecode: { action: 'removed', paths: bytecode } } };
    case 'allow':
      return { value: { bytecode: { action: 'allowed', paths: bytecode } } };
    default:
      throw new TypeError(`bytecode must be "refuse", "remove" or "allow" (got ${JSON.stringify(options.bytecode)})`);
  }
}

/**
 * 7, last: where the directory is `name`d as a variant, its signed shared objects (the files
 * `keys`, read in `dir`: the variant or its verified copy) built for the CPU architecture and
 * system of that name (build-target.ts).
 */
export async function checkPlatform(name: string, dir: string, keys: Iterable<string>): Promise<{ status: 'platform-mismatch' | 'hash-failed'; reason: string } | undefined> {
  const variant = parseVariantName(name);
  const mismatch = variant && (await buildTargetMismatch(dir, keys, variant));
  return mismatch ? { status: mismatch.unreadable ? 'hash-failed' : 'platform-mismatch', reason: mismatch.reason } : undefined;
}
