import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { githubActionsClaims, identityToken, type MockSigstore } from './mock-sigstore.ts';
import { tempDir } from './fs.js';
import { DIST } from './package.js';
import { unsignedVariant } from './variant.js';

const ks = (await import(DIST)) as typeof import('../../dist/index.js');

/**
 * A kernel repository's files (for the mock Hub) whose `signed` variants are signed by the
 * GitHub Actions build workflow of `source` (on main) through the mock Sigstore, and whose
 * `unsigned` variants are not.
 */
export async function repoSignedBy(sigstore: MockSigstore, source: string, signed: string[], unsigned: string[] = []): Promise<string> {
  const dir = tempDir('kernelseal-hub-repo-');
  for (const name of [...signed, ...unsigned]) {
    const variant = join(dir, 'build', name);
    cpSync(unsignedVariant(), variant, { recursive: true });
    if (signed.includes(name)) await ks.signVariant(variant, { signer: { method: 'keyless', identityToken: identityToken(githubActionsClaims(source)), fulcioURL: sigstore.url, rekorURL: sigstore.url } });
  }
  return dir;
}
