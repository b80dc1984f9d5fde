import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/fs.js';
import { runCli } from './helpers/package.js';

// The harness itself, on its smallest data set and one round: the figures are measured by
// `npm run bench`, never asserted here.
describe('kernelseal bench', () => {
  it('measures every method against the compute limit and reports JSON, a table and a chart', async () => {
    const data = tempDir();
    const svg = join(tempDir(), 'bench.svg');
    const args = ['bench', '--rounds', '1', '--datasets', '1000x64KiB', '--rss-datasets', '1000x64KiB', '--algorithms', 'sha256,blake3', '--data', data];
    const json = await runCli([...args, '--json', '--svg', svg]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.machine.sha2).toMatch(/^sha2: (openssl \((process|libcrypto)\)|sha2 crate), \d+ threads$/);
    expect(report.limits.machine.sha256).toBeGreaterThan(0);
    expect(report.limits.core.sha256).toBeGreaterThan(0);
    const cells = report.rows.map((r: { algorithm: string; method: string }) => `${r.algorithm}/${r.method}`).sort();
    expect(cells).toEqual(['blake3/native', 'blake3/pure', 'sha256/naive-stream', 'sha256/native', 'sha256/pure']);
    for (const row of report.rows) {
      expect(row.bytes).toBe(1000 * 64 * 1024);
      expect(row.seconds).toHaveLength(1);
      expect(row.gbPerSecond).toBeCloseTo(row.bytes / row.medianSeconds / 1e9, 6);
    }
    expect(report.rss.map((r: { backend: string }) => r.backend)).toEqual(['native', 'pure']);
    for (const row of report.rss) expect(row.peakRssMiB).toBeGreaterThan(10);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[\s\S]*<\/svg>$/);

    const table = await runCli([...args, '--algorithms', 'sha256']);
    expect(table.stdout).toMatch(/^1000x64KiB\s+sha256\s+native\s+\d+\.\d{3}\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d$/m);
    expect(table.stdout).toMatch(/^  1000x64KiB \(0\.06 GiB, 1000 files\), native: \d+ MiB$/m);
  });

  it('refuses unknown data sets and algorithms', async () => {
    expect((await runCli(['bench', '--datasets', 'huge'])).stderr).toContain('unknown data set huge');
    expect((await runCli(['bench', '--algorithms', 'md5'])).code).toBe(2);
  });
});
