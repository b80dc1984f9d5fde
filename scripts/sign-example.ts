// Re-signs the bundled example kernel (examples/relu) the way a CI job would: keyless, with an
// OIDC token of a GitHub Actions run of kernelseal-examples/relu, against @sigstore/mock's
// Fulcio, Rekor and TSA served on 127.0.0.1 (this machine has no route to Sigstore). Writes the
// variant's metadata.json (with its digest) and metadata.json.sigstore, and the mock instance's
// trusted root next to them: `npm run example` verifies with it.
//
// Run with a Node.js that strips types (>= 22.18): node scripts/sign-example.ts
import { cpSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { githubActionsClaims, identityToken, startMockSigstore } from '../__test__/helpers/mock-sigstore.ts';

const example = fileURLToPath(new URL('../examples/relu/', import.meta.url));
const ks = await import('../dist/index.js');
const sigstore = await startMockSigstore();
try {
  const signer = {
    method: 'keyless',
    identityToken: identityToken(githubActionsClaims('kernelseal-examples/relu')),
    fulcioURL: sigstore.url,
    rekorURL: sigstore.url,
  } as const;
  const { bundlePath, digest } = await ks.signVariant(`${example}build/torch210-cxx11-cpu-x86_64-linux`, { signer });
  cpSync(sigstore.trustedRootPath, `${example}trusted_root.json`);
  writeFileSync(
    `${example}policy.json`,
    `${JSON.stringify({ github: { repository: 'kernelseal-examples/relu', workflow: '.github/workflows/build.yaml', ref: 'refs/heads/main' } }, null, 2)}\n`,
  );
  console.log(`signed ${digest.files.size} files: ${bundlePath}`);
} finally {
  await sigstore.close();
}
