import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { githubActionsClaims, identityToken, type MockSigstore } from './mock-sigstore.ts';
import { tempDir } from './fs.js';
import { DIST } from './package.js';
import { unsignedVariant } from './variant.js';

const ks = (await import(DIST)) as typeof import('../../dist/index.js');

/**
 * A Hub repository's files (for the mock Hub): each of `variants` under build/, a copy of
 * `unsignedVariant()` signed keyless through `sigstore` by a GitHub workflow of `repoId`.
 */
export async function signedRepository(sigstore: MockSigstore, repoId: string, variants: string[]): Promise<string> {
  const repoDir = tempDir('kernelseal-hub-repo-');
  for (const variant of variants) {
    const dir = join(repoDir, 'build', variant);
    cpSync(unsignedVariant(), dir, { recursive: true });
    await ks.signVariant(dir, { signer: { method: 'keyless', identityToken: identityToken(githubActionsClaims(repoId)), fulcioURL: sigstore.url, rekorURL: sigstore.url } });
  }
  return repoDir;
}
