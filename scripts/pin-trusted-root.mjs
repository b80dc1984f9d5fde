#!/usr/bin/env node
// Re-pins trust/public-good.trusted_root.json from the seeds of the installed @sigstore/tuf,
// the trusted root that package ships for the public-good instance. Run after upgrading
// @sigstore/tuf; a test fails while the two differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const seeds = JSON.parse(readFileSync(require.resolve('@sigstore/tuf/seeds.json'), 'utf8'));
const target = seeds['https://tuf-repo-cdn.sigstore.dev'].targets['trusted_root.json'];
const out = new URL('../trust/public-good.trusted_root.json', import.meta.url);
writeFileSync(out, Buffer.from(target, 'base64'));
console.log(`pinned ${out.pathname} from @sigstore/tuf ${require('@sigstore/tuf/package.json').version}`);
