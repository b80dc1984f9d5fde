import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { githubActionsClaims, identityToken } from './helpers/mock-sigstore.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { tempDir } from './helpers/fs.js';
import { DIST } from './helpers/package.js';
import { notChecked, PROBES } from './helpers/platform.js';
import { unsignedVariant } from './helpers/variant.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');
const sigstore = withMockSigstore();

describe('load', () => {
  it.each(['native', 'pure'])(
    'verifies 200 variants at once (%s) under a limit of 128 open files: no EMFILE, same results as one by one',
    async (backend) => {
      // Ten signed variants, three of them tampered with, copied twenty times each.
      const root = tempDir();
      const originals = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const dir = unsignedVariant();
          writeFileSync(join(dir, 'id.txt'), `variant ${i}`);
          const signer = { method: 'keyless', identityToken: identityToken(githubActionsClaims('my-org/k')), fulcioURL: sigstore.url, rekorURL: sigstore.url } as const;
          await ks.signVariant(dir, { signer });
          if (i % 4 === 3) writeFileSync(join(dir, 'layers.py'), 'tampered\n');
          return dir;
        }),
      );
      const variants = Array.from({ length: 200 }, (_, i) => {
        const dir = join(root, `v${i}`);
        cpSync(originals[i % 10]!, dir, { recursive: true });
        return dir;
      });
      const list = join(root, 'variants.json');
      writeFileSync(list, JSON.stringify(variants));
      const script = `
        ${PROBES}
        const m = await import(${JSON.stringify(DIST)});
        const { closeSync, openSync, readFileSync } = await import('node:fs');
        // The limit holds (Node raises the soft limit to the hard one: both must be 128).
        const held = [];
        let limited = false;
        try { for (let i = 0; i < 200; i++) held.push(openSync(${JSON.stringify(list)}, 'r')); } catch (e) { limited = e.code === 'EMFILE'; }
        held.forEach((fd) => closeSync(fd));
        const variants = JSON.parse(readFileSync(${JSON.stringify(list)}, 'utf8'));
        const trustedRoot = m.parseTrustedRoot(JSON.parse(readFileSync(${JSON.stringify(sigstore.trustedRootPath)}, 'utf8')), 'mock');
        const options = { policy: m.githubWorkflowPolicy({ repository: 'my-org/k' }), trustedRoot };
        const summary = (r) => r.status + (r.violations ? ':' + r.violations.map(String).join('|') : '') + (r.reason ?? '');
        const started = performance.now();
        const concurrent = await Promise.all(variants.map((v) => m.verifyVariant(v, options)));
        const seconds = (performance.now() - started) / 1000;
        const sequential = [];
        for (const v of variants) sequential.push(await m.verifyVariant(v, options));
        console.log(JSON.stringify({
          limited,
          same: concurrent.every((r, i) => summary(r) === summary(sequential[i])),
          statuses: [...new Set(concurrent.map((r) => r.status))].sort(),
          emfile: concurrent.some((r) => JSON.stringify(r).includes('EMFILE')),
          verified: concurrent.filter((r) => r.status === 'verified').length,
          peakRssMiB: peakRssMiB(),
          seconds,
        }));`;
      // ulimit in sh sets the soft and the hard limit, on Linux and macOS alike (prlimit is Linux's).
      const result = spawnSync('sh', ['-c', 'ulimit -n 128 && exec "$0" "$@"', process.execPath, '--input-type=module', '-e', script], {
        encoding: 'utf8',
        env: { ...process.env, KERNELSEAL_DIGEST_BACKEND: backend },
        timeout: 300_000,
      });
      expect(result.stderr).toBe('');
      const report = JSON.parse(result.stdout);
      console.log(`200 concurrent verifications (${backend}): ${report.seconds.toFixed(1)} s, peak RSS ${report.peakRssMiB?.toFixed(0) ?? '(not measured)'} MiB`);
      expect(report).toMatchObject({ limited: true, same: true, emfile: false, statuses: ['digest-mismatch', 'verified'], verified: 160 });
      if (report.peakRssMiB === null) notChecked('peak memory under 512 MiB', 'VmHWM is read from /proc/self/status (Linux)');
      else expect(report.peakRssMiB).toBeLessThan(512);
    },
    300_000,
  );
});
