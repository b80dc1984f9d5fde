import { bundleToJSON } from '@sigstore/bundle';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { DigestBackend } from '../hashing/backend.js';
import { digestBackend } from '../hashing/select-backend.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { SLSA_PROVENANCE_V1 } from '../trust/predicate-policy.js';
import { SigningError, signEnvelope, type SignerOptions } from '../sign/sign-bytes.js';
import { IN_TOTO_PAYLOAD_TYPE } from '../sigstore/dsse.js';
import { IN_TOTO_STATEMENT_V1 } from '../sigstore/in-toto.js';
import { githubActionsProvenance } from './github-provenance.js';

export interface AttestOptions {
  /** The files the statement is about: each one a subject (name and sha256). */
  artifacts: readonly string[];
  /** Keyless signing (Fulcio); in GitHub Actions the job's ambient OIDC token. */
  signer: SignerOptions & { method: 'keyless' };
  /** Sign this predicate instead of SLSA provenance built from the environment. */
  predicate?: { type: string; value: unknown };
  /** Write the bundle as one line of this JSON Lines file, instead of `<artifact>.intoto.sigstore.json`. */
  output?: string;
  /** The environment provenance is read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Hashes the artifacts (default: the selected digest backend). */
  backend?: DigestBackend;
}

export interface Attestation {
  statement: { _type: string; subject: Array<{ name: string; digest: { sha256: string } }>; predicateType: string; predicate: unknown };
  /** The signed bundle (v0.3, DSSE), as written. */
  bundle: Record<string, unknown>;
  /** The files written. */
  written: string[];
}

/**
 * Makes one in-toto statement with every artifact as a subject (SLSA provenance v1 of the
 * current GitHub Actions job, or the predicate given), signs it keylessly as a DSSE bundle
 * v0.3 logged in Rekor, and writes it next to each artifact (or to `output`). Nothing is
 * written unless everything was signed.
 */
export async function attest(options: AttestOptions): Promise<Attestation> {
  if (options.artifacts.length === 0) throw new SigningError('INPUT_INVALID', 'nothing to attest: give at least one artifact');
  const names = options.artifacts.map((artifact) => basename(artifact));
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated) throw new SigningError('INPUT_INVALID', `two artifacts are named ${JSON.stringify(repeated)}: a subject name must say which file it is`);
  // Provenance first: outside GitHub Actions nothing is hashed or signed.
  const predicate = options.predicate ?? { type: SLSA_PROVENANCE_V1, value: githubActionsProvenance(options.env ?? process.env) };
  const subject = await Promise.all(
    options.artifacts.map(async (artifact, i) => {
      const info = await stat(artifact).catch((error: Error) => {
        throw new SigningError('INPUT_INVALID', `cannot read ${artifact}: ${error.message}`, { cause: error });
      });
      if (!info.isFile()) throw new SigningError('INPUT_INVALID', `${artifact} is not a regular file`);
      const digest = await (options.backend ?? digestBackend()).hashFile(artifact, 'sha256');
      return { name: names[i]!, digest: { sha256: Buffer.from(digest).toString('hex') } };
    }),
  );
  const statement = { _type: IN_TOTO_STATEMENT_V1, subject, predicateType: predicate.type, predicate: predicate.value };
  const bundle = bundleToJSON(await signEnvelope(Buffer.from(JSON.stringify(statement)), IN_TOTO_PAYLOAD_TYPE, options.signer)) as Record<string, unknown>;
  const written = options.output ? [options.output] : options.artifacts.map((artifact) => `${artifact}.intoto.sigstore.json`);
  for (const path of written) await writeFileAtomic(path, `${JSON.stringify(bundle)}${options.output ? '\n' : ''}`);
  return { statement, bundle, written };
}
