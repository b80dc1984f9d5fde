import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { writeFileAtomic, writeFileOnce } from '../../fs/atomic-write.js';
import { makePrivateDir, userStateDir } from '../../fs/user-state.js';
import { readStrictJSONObject } from '../../json/strict-json.js';
import type { Signer } from '../../sigstore/verify-bundle.js';

// Where neither a publisher list nor a lock says who signs a kernel, a policy alone does, and a
// broad one (an organisation's every workflow, the default's) lets another repository of that
// organisation sign in its place without anyone noticing. So the first verified signer of each
// repository is remembered in the user's state folder, and a later load signed by another source
// repository, or not signed where it was, is refused until the user accepts the change (SECURITY.md,
// "A signer that changes").

/** Who signed a repository's kernel first: what a later signature is compared with. */
export interface RememberedSigner {
  repoId: string;
  issuer: string;
  /** The source repository of the signing workflow (Fulcio's extension); else the certificate's identity. */
  sourceRepository?: string;
  identity?: string;
  /** When it was first seen (or last accepted). */
  since: string;
}

/** The signer memory cannot be read or trusted: nothing is assumed, the load is refused. */
export class SignerMemoryError extends Error {
  override readonly name = 'SignerMemoryError';
  readonly code = 'SIGNER_MEMORY_INVALID' as const;
}

const SCHEMA = 'kernelseal/first-signer/v1';
const MAX_BYTES = 64 * 1024;

/** The folder of the remembered signers (one file a repository) under the user's state folder. */
export function signerMemoryDir(stateDir = userStateDir()): string {
  return join(stateDir, 'signers');
}

/** The file that remembers `repoId` (a `repoType` repository): names compare without case, as the Hub's do. */
function memoryFile(dir: string, repoId: string, repoType: string): string {
  // As the Hugging Face cache names repositories: `--` cannot occur in a Hub name, and no name
  // holds a `/`, so the file stays in the folder whatever the name.
  return join(dir, `${repoType}s--${repoId.toLowerCase().replace('/', '--')}.json`);
}

/** The signer first remembered for `repoId`, or undefined for a repository never verified here. */
export async function recallSigner(repoId: string, repoType: string, stateDir?: string): Promise<RememberedSigner | undefined> {
  const dir = signerMemoryDir(stateDir);
  const path = memoryFile(dir, repoId, repoType);
  const damaged = (why: string): never => {
    throw new SignerMemoryError(`the remembered signer ${path} cannot be trusted (${why}); delete it to start over: the next verified signer of ${repoId} is then remembered`);
  };
  const problem = await makePrivateDir(dir);
  if (problem) damaged(`its folder ${problem}`);
  const read = await readStrictJSONObject(path, MAX_BYTES);
  if ('missing' in read) return undefined;
  if ('error' in read) return damaged(read.error);
  const json = read.record;
  if (json.schema !== SCHEMA || typeof json.repoId !== 'string' || typeof json.issuer !== 'string' || typeof json.since !== 'string') return damaged('not a signer record');
  if (json.repoId.toLowerCase() !== repoId.toLowerCase()) return damaged(`it names ${json.repoId}`);
  for (const key of ['sourceRepository', 'identity'] as const) if (json[key] !== undefined && typeof json[key] !== 'string') damaged(`${key} is not a string`);
  return { repoId: json.repoId, issuer: json.issuer, sourceRepository: json.sourceRepository as string | undefined, identity: json.identity as string | undefined, since: json.since };
}

/**
 * Remembers `signer` for `repoId` (atomically, readable by this user only), in place of the one
 * remembered (`replace`, the user accepted the change) or only if none is yet: of two first loads
 * at once, one signer is remembered and false tells the other to compare with it. `undefined`
 * forgets the signer.
 */
export async function rememberSigner(repoId: string, repoType: string, signer: Signer | undefined, how: 'first' | 'replace', stateDir?: string): Promise<boolean> {
  const dir = signerMemoryDir(stateDir);
  const problem = await makePrivateDir(dir);
  if (problem) throw new SignerMemoryError(`the signer memory ${dir} ${problem}`);
  const path = memoryFile(dir, repoId, repoType);
  if (!signer) {
    await rm(path, { force: true });
    return true;
  }
  const record = `${JSON.stringify({ schema: SCHEMA, repoId, issuer: signer.issuer ?? '', ...whoSigned(signer), since: new Date().toISOString() }, null, 2)}\n`;
  if (how === 'first') return writeFileOnce(path, record, 0o600);
  await writeFileAtomic(path, record, 0o600);
  return true;
}

/** What identifies a signer across releases: its source repository, else (no such extension) its identity. */
function whoSigned(signer: Pick<Signer, 'sourceRepository' | 'identity'>): { sourceRepository: string } | { identity: string } | Record<string, never> {
  if (signer.sourceRepository) return { sourceRepository: signer.sourceRepository };
  return signer.identity ? { identity: signer.identity } : {};
}

/** "https://github.com/org/repo (issuer https://token.actions.githubusercontent.com)". */
export function describeSigner(signer: Pick<Signer, 'issuer' | 'sourceRepository' | 'identity'>): string {
  return `${signer.sourceRepository ?? signer.identity ?? 'an unnamed signer'} (issuer ${signer.issuer ?? 'none'})`;
}

/**
 * Whether `signer` is the one remembered: the same issuer, and the same source repository
 * (compared without case, as GitHub compares names), or with none, the same identity.
 */
export function sameSigner(remembered: RememberedSigner, signer: Signer): boolean {
  if (remembered.issuer !== (signer.issuer ?? '')) return false;
  const now = whoSigned(signer);
  if (remembered.sourceRepository !== undefined) return 'sourceRepository' in now && now.sourceRepository.toLowerCase() === remembered.sourceRepository.toLowerCase();
  return !('sourceRepository' in now) && remembered.identity === ('identity' in now ? now.identity : undefined);
}
