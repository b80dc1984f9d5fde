import { isJSONObject } from '../json/json-object.js';
import { IN_TOTO_STATEMENT_V1, readInTotoStatement } from '../sigstore/in-toto.js';
import { SignatureVerificationError, verifyEnvelopeBundle, type SignatureVerificationErrorCode, type Signer, type TrustedRoots } from '../sigstore/verify-bundle.js';
import { githubReleasesPolicy, type Policy } from '../trust/policy.js';
import type { LoadedAttestation } from './attestation-file.js';
import { verifyEach, type AttestationFailure } from './verify-attestation.js';

/**
 * The predicate GitHub signs a release with when it is made immutable: v0.2 now (the release's
 * repository, tag, purl and ids), v0.1 before (the same facts). gh release verify reads both.
 */
export const RELEASE_PREDICATE_TYPES = ['https://in-toto.io/attestation/release/v0.2', 'https://in-toto.io/attestation/release/v0.1'] as const;

/** A file of the release as the caller has it: a name for people, and its SHA-256 (hex). */
export interface ReleaseAsset {
  name: string;
  sha256: string;
}

export interface VerifyReleaseOptions {
  /** `owner/name` of the repository whose release it is. */
  repository: string;
  /** The release's tag (`v1.2.3`). */
  tag: string;
  /** Attestation files (a bundle, JSON Lines of bundles, GitHub's attestations API answer). */
  bundles: readonly string[];
  /** GitHub's instance signs releases: its root, or several roots among which it is. */
  trustedRoot: TrustedRoots;
  /** Who signs releases; default GitHub's release service (`https://dotcom.releases.github.com`, no OIDC issuer). */
  policy?: Policy;
  /** The commit the tag points at (sha1, hex), when known: the release subject must carry it. */
  commit?: string;
  /** Files of the release: each must be a subject of the signed statement. */
  assets?: readonly ReleaseAsset[];
  /** Every asset the statement names must be among `assets` (a downloaded release, checked whole). */
  allAssets?: boolean;
}

/** One subject of the statement: the release itself (`uri`, a purl, with the tag's commit) or an asset (`name`, sha256). */
export interface ReleaseSubject {
  name?: string;
  uri?: string;
  digest: Record<string, string>;
}

export interface VerifiedRelease {
  source: string;
  predicateType: string;
  repository: string;
  tag: string;
  /** The commit the release subject carries (sha1). */
  commit?: string;
  signer: Signer;
  /** Every subject of the signed statement, in its order. */
  subjects: ReleaseSubject[];
}

export interface AssetCheck {
  name: string;
  sha256: string;
  /** The subject that carries this digest, when one does. */
  subject?: string;
  ok: boolean;
  reason?: string;
}

export interface ReleaseVerificationResult {
  /** True only when every attestation verified, exactly one is of this release, and every asset checked is in it. */
  ok: boolean;
  release?: VerifiedRelease;
  assets: AssetCheck[];
  failures: AttestationFailure[];
  reason?: string;
}

/**
 * Verifies a GitHub release attestation as `gh release verify` and `gh release verify-asset` do,
 * from attestation files instead of GitHub's API: every attestation in them must verify (the
 * signature against GitHub's instance, its signer GitHub's release service), be a release
 * statement of this repository and tag whose release subject is `pkg:github/<repo>@<tag>`
 * (with `commit`, when given), and there must be exactly one. Then each asset given must be one
 * of its subjects by SHA-256; with `allAssets`, every asset it names must have been given.
 */
export async function verifyRelease(options: VerifyReleaseOptions): Promise<ReleaseVerificationResult> {
  if (options.bundles.length === 0) throw new TypeError('verifyRelease needs at least one attestation file');
  const policy = options.policy ?? githubReleasesPolicy;
  const { verified: releases, failures } = await verifyEach(options.bundles, (attestation) => verifyOne(attestation, policy, options));
  let reason: string | undefined;
  if (failures.length > 0) reason = `${failures.length} attestation${failures.length > 1 ? 's' : ''} did not verify`;
  else if (releases.length === 0) reason = `no attestation of release ${options.tag} of ${options.repository}`;
  else if (releases.length > 1) reason = `${releases.length} attestations of release ${options.tag}: GitHub makes one, so which one holds is unclear`;
  const release = releases.length === 1 ? releases[0] : undefined;
  const assets = release ? checkAssets(release, options) : [];
  if (!reason && assets.some((a) => !a.ok)) reason = `${assets.filter((a) => !a.ok).length} of ${assets.length} assets are not in the release attestation`;
  return { ok: reason === undefined, ...(release ? { release } : {}), assets, failures, ...(reason ? { reason } : {}) };
}

function verifyOne(attestation: LoadedAttestation, policy: Policy, options: VerifyReleaseOptions): VerifiedRelease {
  const fail = (code: SignatureVerificationErrorCode, reason: string): never => {
    throw new SignatureVerificationError(code, reason);
  };
  const { bundle } = attestation;
  if (bundle.content.$case !== 'dsseEnvelope') return fail('NOT_AN_ATTESTATION', 'the bundle signs a message, not an in-toto attestation (DSSE envelope)');
  if (bundle.verificationMaterial.content.$case === 'publicKey') return fail('KEY_ERROR', 'signed with a key: GitHub signs releases with a certificate of its own instance');
  // The statement is read only once the signature and its signer hold.
  const signer = verifyEnvelopeBundle(bundle, options.trustedRoot, { policy });
  const envelope = bundle.content.dsseEnvelope;
  // GitHub's release attestations are v1 statements: no older type is read.
  const read = readInTotoStatement(envelope.payloadType, envelope.payload, [IN_TOTO_STATEMENT_V1]);
  if ('reason' in read) return fail('STATEMENT_ERROR', read.reason);
  const { statement } = read;
  const predicateType = statement.predicateType;
  if (typeof predicateType !== 'string' || !(RELEASE_PREDICATE_TYPES as readonly string[]).includes(predicateType)) {
    fail('PREDICATE_TYPE_ERROR', `predicate type ${JSON.stringify(predicateType)} is not a release attestation (${RELEASE_PREDICATE_TYPES.join(', ')})`);
  }
  const predicate = isJSONObject(statement.predicate) ? statement.predicate : {};
  const repository = typeof predicate.repository === 'string' ? predicate.repository : undefined;
  const tag = typeof predicate.tag === 'string' ? predicate.tag : undefined;
  // GitHub's owner and repository names are case-insensitive; tags are not.
  if (repository?.toLowerCase() !== options.repository.toLowerCase()) {
    fail('STATEMENT_ERROR', `the attestation is of a release of ${JSON.stringify(repository ?? '(no repository)')}, not ${options.repository}`);
  }
  if (tag !== options.tag) fail('STATEMENT_ERROR', `the attestation is of release ${JSON.stringify(tag ?? '(no tag)')}, not ${options.tag}`);
  const subjects = readSubjects(statement.subject, fail);
  const purl = `pkg:github/${repository}@${tag}`;
  const released = subjects.find((s) => s.uri === purl);
  if (!released) fail('STATEMENT_ERROR', `no subject of the statement is the release ${purl}`);
  const commit = released!.digest.sha1;
  if (options.commit !== undefined && commit?.toLowerCase() !== options.commit.toLowerCase()) {
    fail('ARTIFACT_MISMATCH', `the release ${purl} is attested at commit ${commit ?? '(none)'}, not ${options.commit}`);
  }
  return { source: attestation.source, predicateType: predicateType as string, repository: repository!, tag: tag!, ...(commit ? { commit } : {}), signer, subjects };
}

function readSubjects(json: unknown, fail: (code: SignatureVerificationErrorCode, reason: string) => never): ReleaseSubject[] {
  if (!Array.isArray(json) || json.length === 0) return fail('STATEMENT_ERROR', 'the in-toto statement has no subject');
  return json.map((subject, i) => {
    const s = isJSONObject(subject) ? subject : {};
    const entries = isJSONObject(s.digest) ? Object.entries(s.digest) : [];
    if (entries.length === 0 || !entries.every(([, v]) => typeof v === 'string')) fail('STATEMENT_ERROR', `subject ${i + 1} has no digest`);
    const name = typeof s.name === 'string' ? s.name : undefined;
    const uri = typeof s.uri === 'string' ? s.uri : undefined;
    return { ...(name !== undefined ? { name } : {}), ...(uri !== undefined ? { uri } : {}), digest: Object.fromEntries(entries) as Record<string, string> };
  });
}

function checkAssets(release: VerifiedRelease, options: VerifyReleaseOptions): AssetCheck[] {
  const named = release.subjects.filter((s) => s.name !== undefined && s.digest.sha256 !== undefined);
  const checks: AssetCheck[] = (options.assets ?? []).map((asset) => {
    const subject = named.find((s) => s.digest.sha256!.toLowerCase() === asset.sha256.toLowerCase());
    return subject
      ? { ...asset, subject: subject.name!, ok: true }
      : { ...asset, ok: false, reason: `sha256:${asset.sha256} is not among the ${named.length} assets the release attestation lists` };
  });
  if (options.allAssets) {
    for (const subject of named) {
      if (checks.some((c) => c.subject === subject.name)) continue;
      checks.push({ name: subject.name!, sha256: subject.digest.sha256!, ok: false, reason: 'attested, but not among the files given' });
    }
  }
  return checks;
}
