import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pseudoRandomBytes, tempDir, writeTree } from './helpers/fs.js';
import { DIST, runCli } from './helpers/package.js';

// The harness itself, on its smallest data set and one round: the figures are measured by
// `npm run bench`, never asserted here.
/** Leaves out the whole processes, the read floor and the start-up (their own test below). */
const ONLY_HASHING = ['--peers', 'none', '--read-floor', 'none', '--start-up', 'none'];

describe('kernelseal bench', () => {
  it('measures every method against the compute limit and reports JSON, a table and a chart', async () => {
    const data = tempDir();
    const svg = join(tempDir(), 'bench.svg');
    const args = ['bench', '--rounds', '1', '--datasets', '1000x64KiB', '--rss-datasets', '1000x64KiB', '--hub', 'none', '--verify', 'none', ...ONLY_HASHING, '--algorithms', 'sha256,blake3,blake2b', '--data', data];
    const json = await runCli([...args, '--json', '--svg', svg]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout).results[0].report;
    expect(report.machine.sha2).toMatch(/^sha2: (openssl \((process|libcrypto)\)|sha2 crate), \d+ threads$/);
    expect(report.limits.machine.sha256).toBeGreaterThan(0);
    expect(report.limits.core.sha256).toBeGreaterThan(0);
    const cells = report.rows.map((r: { algorithm: string; method: string }) => `${r.algorithm}/${r.method}`).sort();
    expect(cells).toEqual(['blake2b/naive-stream', 'blake2b/native', 'blake2b/pure', 'blake3/native', 'blake3/pure', 'sha256/naive-stream', 'sha256/native', 'sha256/pure']);
    expect(report.limits.machine.blake2b).toBeGreaterThan(0);
    for (const row of report.rows) {
      expect(row.bytes).toBe(1000 * 64 * 1024);
      expect(row.seconds).toHaveLength(1);
      expect(row.cpuSeconds).toHaveLength(1);
      expect(row.gbPerSecond).toBeCloseTo(row.bytes / row.medianSeconds / 1e9, 6);
    }
    expect(report.rss.map((r: { backend: string }) => r.backend)).toEqual(['native', 'pure']);
    for (const row of report.rss) expect(row.peakRssMiB).toBeGreaterThan(10);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[\s\S]*<\/svg>$/);

    const table = await runCli([...args, '--algorithms', 'sha256']);
    expect(table.stdout).toMatch(/^1000x64KiB\s+sha256\s+native\s+\d+\.\d{3}\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d$/m);
    expect(table.stdout).toMatch(/^  1000x64KiB \(0\.06 GiB, 1000 files\), native: \d+ MiB$/m);
  });

  it('measures model hashing (files and shards) on model data sets only', async () => {
    const { modelMethod } = (await import(new URL('../dist/bench/methods.js', import.meta.url).href)) as typeof import('../dist/bench/methods.js');
    const { createNativeBackend } = (await import(DIST)) as typeof import('../dist/index.js');
    const dir = writeTree(tempDir(), { 'a.safetensors': pseudoRandomBytes(3_000_000, 2), 'config.json': '{}' });
    const model = { name: 'tiny-model', description: '', files: [] };
    for (const method of ['files', 'shards'] as const) {
      const measure = modelMethod(createNativeBackend(), method);
      expect(measure.name).toBe(`model-${method}`);
      expect(measure.supports('sha256', model) && measure.supports('blake2b', model)).toBe(true);
      expect(measure.supports('sha512', model) || measure.supports('sha256', { ...model, name: '1x1GiB' })).toBe(false);
      expect((await measure.run('blake3', dir, model)).seconds).toBeGreaterThan(0);
    }
  });

  it('--sha-modes runs once per SHA mode in a fresh process and says which, with the CPU flags', async () => {
    const svg = join(tempDir(), 'bench.svg');
    const args = ['bench', '--rounds', '1', '--datasets', '1000x64KiB', '--rss-datasets', 'none', '--hub', 'none', '--verify', 'none', ...ONLY_HASHING, '--algorithms', 'sha256', '--data', tempDir(), '--sha-modes', 'on,masked', '--json', '--svg', svg];
    const { code, stdout } = await runCli(args);
    expect(code).toBe(0);
    const reports = JSON.parse(stdout).results.map((result: { report: unknown }) => result.report);
    expect(reports).toHaveLength(2);
    const sha = reports[0].machine.flags.sha as boolean;
    expect(reports.map((r: { machine: { shaExtensions: string } }) => r.machine.shaExtensions)).toEqual(sha ? ['on', 'masked'] : ['absent', 'absent']);
    expect(reports[1].machine.opensslCap).toBe(':~0x20000000');
    expect(typeof reports[0].machine.flags.avx2).toBe('boolean');
    expect(readFileSync(svg.replace('.svg', '-masked.svg'), 'utf8')).toContain('<svg');
    expect((await runCli(['bench', '--sha-modes', 'fast'])).code).toBe(2);
  });

  it('measures kernel loads from a local Hub against a plain download, and verify against hashing, on their own', async () => {
    const args = ['bench', '--rounds', '1', '--datasets', 'none', '--rss-datasets', 'none', '--algorithms', 'sha256', '--hub', 'tiny-variant', '--verify', 'tiny-variant', ...ONLY_HASHING, '--data', tempDir()];
    const { code, stdout } = await runCli([...args, '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout).results[0].report;
    expect(report.rows).toEqual([]);
    expect(report.hubLoads).toEqual([
      expect.objectContaining({ dataset: 'tiny-variant', files: 11, bytes: 10 * 4096 + 128 * 1024, streamed: true }),
    ]);
    const [load] = report.hubLoads;
    for (const figure of ['plainSeconds', 'firstLoadSeconds', 'secondLoadOfflineMs', 'secondLoadOnlineMs', 'statFloorMs']) expect(load[figure], figure).toBeGreaterThan(0);
    expect(load.ratio).toBeCloseTo(load.firstLoadSeconds / load.plainSeconds, 6);
    // The publisher list stage beside the loads: a warm open reads the user's state alone (the bench checks it made no request).
    expect(report.listOpen).toMatchObject({ entries: 100 });
    for (const figure of ['coldMs', 'warmMs']) expect(report.listOpen[figure], figure).toBeGreaterThan(0);
    const [verify] = report.manyFiles;
    expect(verify).toMatchObject({ dataset: 'tiny-variant', files: 11 });
    for (const figure of ['hashMs', 'verifyMs', 'hashPeakRssMiB', 'verifyPeakRssMiB']) expect(verify[figure], figure).toBeGreaterThan(0);
    const table = await runCli(args);
    expect(table.stdout).toMatch(/^  tiny-variant \(0\.00 GiB, 11 files\): first load \d+\.\d\d s, plain download \d+\.\d\d s: x\d+\.\d\d; second load \d+\.\d ms offline, \d+\.\d ms online \(a stat of each of its files alone: \d+\.\d ms\)$/m);
    expect(table.stdout).toMatch(/^  a trusted publisher list of 100 entries, the load's first stage: \d+\.\d ms opened with no state, \d+\.\d ms warm \(from the user's state, no request\)$/m);
    expect(table.stdout).toMatch(/^verifyVariant of tiny-variant \(11 files; fresh processes, medians\): \d+ ms, peak \d+ MiB; hashing alone \d+ ms, peak \d+ MiB: x\d+\.\d\d$/m);
  });

  it('times the start, whole processes against other tools, and the read floor, and prints each ratio', async () => {
    const args = ['bench', '--rounds', '1', '--datasets', '1000x64KiB', '--rss-datasets', 'none', '--hub', 'none', '--verify', 'none', '--algorithms', 'sha256,blake3', '--data', tempDir()];
    const only = ['--peers', '1000x64KiB', '--read-floor', '1000x64KiB', '--start-up', 'on'];
    const { code, stdout } = await runCli([...args, ...only, '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout).results[0].report;
    expect(report.startUp.map((row: { name: string }) => row.name)).toEqual([
      'node -e 0',
      'kernelseal --version',
      'kernelseal --version, no compile cache',
      'kernelseal verify (the example, offline)',
      'kernelseal verify (the example), no compile cache',
    ]);
    expect(report.startUp[0].overNode).toBe(1);
    for (const row of report.startUp) {
      expect(row.overNode).toBeCloseTo(row.medianMs / report.startUp[0].medianMs, 6);
      expect(row.cpuOverNode).toBeCloseTo(row.medianCpuMs / report.startUp[0].medianCpuMs, 6);
    }
    const tools = report.peers.map((row: { algorithm: string; tool: string }) => `${row.algorithm}/${row.tool}`);
    expect(tools).toEqual(expect.arrayContaining(['sha256/kernelseal digest', 'blake3/kernelseal digest']));
    for (const row of report.peers) {
      const ours = report.peers.find((r: { algorithm: string; tool: string }) => r.algorithm === row.algorithm && r.tool === 'kernelseal digest');
      expect(row).toMatchObject({ dataset: '1000x64KiB', files: 1000, bytes: 1000 * 64 * 1024 });
      expect(row.peerOverKernelseal).toBeCloseTo(row.medianSeconds / ours.medianSeconds, 6);
      expect(row.peerCpuOverKernelseal).toBeCloseTo(row.medianCpuSeconds / ours.medianCpuSeconds, 6);
      // The CPU time of the tool and what it ran (xargs' children included), never nothing.
      expect(row.medianCpuSeconds).toBeGreaterThan(0);
    }
    // The read floor needs cargo and the engine's crate, which a clone has.
    expect(report.readFloor).toEqual([expect.objectContaining({ dataset: '1000x64KiB', algorithm: 'sha256' })]);
    const [floor] = report.readFloor;
    expect(floor.engineOverFloor).toBeCloseTo(floor.engine / floor.floor, 6);
    for (const figure of ['limit', 'floor', 'engine']) expect(floor[figure], figure).toBeGreaterThan(0);

    const table = await runCli([...args, ...only, '--start-up', 'none', '--algorithms', 'sha256']);
    expect(table.stdout).toMatch(/^  1000x64KiB sha256: kernelseal digest \d+\.\d{3} s \(cpu \d+\.\d{3} s\); .* = \d+\.\d\d \(cpu \d+\.\d\d\)/m);
    expect(table.stdout).toMatch(/^  1000x64KiB sha256: limit \d+\.\d{3}, floor \d+\.\d{3} \(\d\.\d\d x limit\), engine \d+\.\d{3} = \d\.\d\d x floor; native through Node \(the table above\) \d+\.\d{3} = \d\.\d\d x floor$/m);
    expect(table.stdout).not.toContain('start-up');
  });

  it('refuses unknown data sets and algorithms', async () => {
    expect((await runCli(['bench', '--datasets', 'huge'])).stderr).toContain('unknown data set huge');
    expect((await runCli(['bench', '--algorithms', 'md5'])).code).toBe(2);
  });
});

// The report names a scheme that pages out idle page cache (src/bench/machine.ts): read from
// DAMON's sysfs tree, here a copy of this bench machine's, then variations of it.
describe('the machine the bench reports', async () => {
  const { damonPageout } = (await import(new URL('bench/machine.js', DIST).href)) as typeof import('../dist/bench/machine.js');
  const damon = (state: string, action: string) =>
    writeTree(tempDir(), {
      '0/state': `${state}\n`,
      '0/contexts/0/monitoring_attrs/intervals/aggr_us': '5000000\n',
      '0/contexts/0/schemes/0/action': `${action}\n`,
      '0/contexts/0/schemes/0/access_pattern/age/min': '12\n',
    });

  it('names DAMON pageout and the idle time it waits for, and nothing when none runs', () => {
    expect(damonPageout(damon('on', 'pageout'))).toBe('DAMON pageout of memory idle >= 60 s');
    expect(damonPageout(damon('off', 'pageout'))).toBeUndefined();
    expect(damonPageout(damon('on', 'stat'))).toBeUndefined();
    expect(damonPageout(join(tempDir(), 'absent'))).toBeUndefined();
  });
});
