import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNode } from './helpers/fs.js';
import { DIST } from './helpers/package.js';
import { notChecked, PROBES } from './helpers/platform.js';

// A variant of a million one-byte files (1000 directories of 1000): hashing keeps memory
// bounded by the number of files (the result itself), reports progress, and can be cancelled.
let root: string;
beforeAll(() => {
  // On tmpfs when there is one: a million inodes on disk take minutes to create and remove.
  root = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'kernelseal-million-'));
  execFileSync('python3', [
    '-c',
    `import os
root = ${JSON.stringify(root)}
for d in range(1000):
    p = f'{root}/d{d:03d}'
    os.mkdir(p)
    for f in range(1000):
        fd = os.open(f'{p}/f{f:03d}.py', os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, b'x')
        os.close(fd)`,
  ]);
}, 300_000);
// rm(1) is much faster than a million unlinks from JavaScript.
afterAll(() => execFileSync('rm', ['-rf', root]), 300_000);

describe('a million tiny files', () => {
  it('are hashed natively with bounded memory and progress', () => {
    const result = runNode(
      `${PROBES}
       const m = await import(${JSON.stringify(DIST)});
       let reports = 0;
       const started = performance.now();
       const hashes = await m.createNativeBackend().hashVariant('sha256', ${JSON.stringify(root)}, { onProgress: () => reports++ });
       console.log(JSON.stringify({ files: hashes.paths.length, reports, seconds: (performance.now() - started) / 1000, peakRssMiB: peakRssMiB() }));`,
      { timeout: 300_000 },
    );
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout);
    console.log(`1,000,000 files, native: ${report.seconds.toFixed(1)} s, ${report.reports} progress reports, peak RSS ${report.peakRssMiB?.toFixed(0) ?? '(not measured)'} MiB`);
    expect(report.files).toBe(1_000_000);
    expect(report.reports).toBeGreaterThan(2);
    if (report.peakRssMiB === null) notChecked('peak memory under 512 MiB', 'VmHWM is read from /proc/self/status (Linux)');
    else expect(report.peakRssMiB).toBeLessThan(512);
  }, 300_000);

  it.each(['native', 'pure'])('can be cancelled while hashing (%s)', (backend) => {
    const result = runNode(
      `const m = await import(${JSON.stringify(DIST)});
       const backend = ${backend === 'native' ? 'm.createNativeBackend()' : 'm.pureBackend'};
       const controller = new AbortController();
       let abortedAt;
       const started = performance.now();
       const outcome = await backend.hashVariant('sha256', ${JSON.stringify(root)}, {
         signal: controller.signal,
         onProgress: (p) => { if (p.filesDone > 1000 && !abortedAt) { abortedAt = performance.now(); controller.abort(); } },
       }).then(() => 'finished', (e) => e.name);
       console.log(JSON.stringify({ outcome, stopMs: performance.now() - abortedAt }));`,
      { timeout: 300_000 },
    );
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout);
    console.log(`1,000,000 files, ${backend}: cancelled ${report.stopMs.toFixed(0)} ms after abort()`);
    expect(report.outcome).toBe('AbortError');
    expect(report.stopMs).toBeLessThan(5_000);
  }, 300_000);
});
