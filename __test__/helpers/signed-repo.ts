import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { githubActionsClaims, identityToken, type MockSigstore } from './mock-sigstore.ts';
import { tempDir } from './fs.js';
import { DIST } from './package.js';
import { KERNEL_METADATA, unsignedVariant } from './variant.js';

const ks = (await import(DIST)) as typeof import('../../dist/index.js');

/**
 * A Hub repository's files (for the mock Hub): each of `variants` under build/, a copy of
 * `unsignedVariant()` signed keyless through `sigstore` by the GitHub Actions build workflow of
 * `source` (on main); and each of `unsigned`, a copy not signed at all. `version` is the kernel
 * version their metadata.json states (default 1): the branch v<N> serves version N only.
 * `extraFiles` more small Python files (`extra/NNN.py`) are put in each variant before it is signed.
 */
export async function signedRepository(sigstore: MockSigstore, source: string, variants: string[], { unsigned = [], version = 1, extraFiles = 0 }: { unsigned?: string[]; version?: number; extraFiles?: number } = {}): Promise<string> {
  const repoDir = tempDir('kernelseal-hub-repo-');
  for (const variant of [...variants, ...unsigned]) {
    const dir = join(repoDir, 'build', variant);
    cpSync(unsignedVariant(), dir, { recursive: true });
    if (extraFiles > 0) mkdirSync(join(dir, 'extra'));
    for (let i = 0; i < extraFiles; i++) writeFileSync(join(dir, 'extra', `${String(i).padStart(3, '0')}.py`), `VALUE = ${i}\n`);
    if (version !== KERNEL_METADATA.version) writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...KERNEL_METADATA, version }, null, 2));
    if (variants.includes(variant)) await ks.signVariant(dir, { signer: { method: 'keyless', identityToken: identityToken(githubActionsClaims(source)), fulcioURL: sigstore.url, rekorURL: sigstore.url } });
  }
  return repoDir;
}
