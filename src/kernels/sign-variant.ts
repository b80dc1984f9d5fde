import { bundleToJSON, type Bundle } from '@sigstore/bundle';
import { join } from 'node:path';
import type { Digest } from '../digest/digest.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { escapeLineBreaks, metadataProblems, parseMetadata } from './metadata.js';
import { metadataWithDigest, readMetadataText } from './write-digest.js';
import { signBytes, signEnvelope, SigningError, type SignerOptions } from '../sign/sign-bytes.js';
import { IN_TOTO_PAYLOAD_TYPE } from '../sigstore/dsse.js';
import { IN_TOTO_STATEMENT_V1 } from '../sigstore/in-toto.js';
import { SLSA_PROVENANCE_V1 } from '../trust/predicate-policy.js';
import { provenancePath } from './variant-provenance.js';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { describeUnhashed } from '../hashing/unhashed-entries.js';
import { hashTree, type HashVariantOptions } from '../hashing/hash-variant.js';

export interface SignVariantOptions extends HashVariantOptions {
  signer: SignerOptions;
  /** The digest algorithm written into metadata.json: sha256 (default) or sha512. */
  algorithm?: 'sha256' | 'sha512';
  /**
   * Also sign SLSA provenance v1 of this build (the GitHub Actions job's, githubActionsProvenance)
   * whose subject is the SHA-256 of the new metadata.json, as a DSSE bundle written beside the
   * variant (variant-provenance.ts, provenancePath). Keyless only, as every build provenance.
   */
  provenance?: { predicate: Record<string, unknown> };
}

export interface SignedVariant {
  metadataPath: string;
  bundlePath: string;
  bundle: Bundle;
  digest: Digest;
  /** Where the provenance was written, with its bundle, when asked for. */
  provenance?: { path: string; bundle: Bundle };
}

/** The JSON text of a bundle as written to disk. */
export function serializeBundle(bundle: Bundle): string {
  return JSON.stringify(bundleToJSON(bundle));
}

/**
 * Signs a kernel variant the way kernels-community does with `cosign sign-blob`: hashes every
 * file, writes the digest into metadata.json, signs the raw bytes of that file and writes the
 * bundle to metadata.json.sigstore. Both files are replaced atomically, and only once the
 * signature exists: a failure anywhere before leaves the variant as it was; a failure writing
 * the bundle puts the old metadata.json back.
 */
export async function signVariant(dir: string, options: SignVariantOptions): Promise<SignedVariant> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new SigningError('INPUT_INVALID', `${dir}: not a directory`);
  const { path: metadataPath, text: oldText } = await readMetadataText(dir).catch(() => {
    throw new SigningError('INPUT_INVALID', `${dir}: not a kernel variant (no metadata.json)`);
  });
  // Nothing is signed that verification would refuse: metadata.json is checked by the rules
  // verify reads it with (src/kernels/metadata.ts), every problem at once, before any hashing.
  const problems = metadataProblems(Buffer.from(oldText, 'utf8'), { withoutDigest: true });
  if (problems.length > 0) {
    throw new SigningError('INPUT_INVALID', `${metadataPath}: refusing to sign metadata that verification would reject:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
  const { digest, unhashed } = await hashTree(options.algorithm ?? 'sha256', dir, options);
  // Nothing is signed that could not be verified later: no entry may escape the digest.
  if (unhashed.length > 0) {
    // A name with a line break in it is shown escaped: each line of the message is one entry.
    const lines = unhashed.map((entry) => `  ${escapeLineBreaks(entry.path)}: ${describeUnhashed(entry.reason)}`);
    throw new SigningError('INPUT_INVALID', `${dir}: refusing to sign: entries the digest would not cover (remove them first):\n${lines.join('\n')}`);
  }
  const newText = metadataWithDigest(oldText, digest, metadataPath);
  parseMetadata(Buffer.from(newText, 'utf8')); // what verify will read: it holds, or nothing is signed
  const bundle = await signBytes(Buffer.from(newText, 'utf8'), options.signer);
  // Everything is signed before anything is written.
  const provenance = options.provenance ? await signProvenance(dir, newText, options.provenance.predicate, options.signer) : undefined;
  const bundlePath = join(dir, 'metadata.json.sigstore');
  const oldBundle = await readFile(bundlePath).catch(() => undefined);
  await writeFileAtomic(metadataPath, newText);
  try {
    await writeFileAtomic(bundlePath, serializeBundle(bundle));
    if (provenance) await writeFileAtomic(provenance.path, serializeBundle(provenance.bundle));
  } catch (error) {
    await writeFileAtomic(metadataPath, oldText);
    if (oldBundle) await writeFileAtomic(bundlePath, oldBundle);
    throw error;
  }
  return { metadataPath, bundlePath, bundle, digest, ...(provenance ? { provenance } : {}) };
}

/** The in-toto statement of a variant's build: its subject is metadata.json, which lists every file. */
async function signProvenance(dir: string, metadataText: string, predicate: Record<string, unknown>, signer: SignerOptions): Promise<{ path: string; bundle: Bundle }> {
  if (signer.method !== 'keyless') throw new SigningError('INPUT_INVALID', 'provenance is signed keylessly, by the identity of the run that built the variant: drop --key');
  const statement = {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name: 'metadata.json', digest: { sha256: createHash('sha256').update(metadataText, 'utf8').digest('hex') } }],
    predicateType: SLSA_PROVENANCE_V1,
    predicate,
  };
  return { path: provenancePath(dir), bundle: await signEnvelope(Buffer.from(JSON.stringify(statement)), IN_TOTO_PAYLOAD_TYPE, signer) };
}
