import type { DigestAlgorithm } from '../digest/algorithm.js';
import { machineLine } from './machine.js';
import type { PeerRow } from './peers.js';
import type { BenchReport, BenchRow } from './run-bench.js';

const METHOD_ORDER = ['native', 'native-read', 'pure', 'naive-stream', 'native-1-thread'];

function sortRows(rows: BenchRow[]): BenchRow[] {
  return [...rows].sort(
    (a, b) =>
      a.dataset.localeCompare(b.dataset) || a.algorithm.localeCompare(b.algorithm) || METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method),
  );
}

/** The ratio of `row` to the pure backend on the same data set and algorithm. */
function vsPure(report: BenchReport, row: BenchRow): number | undefined {
  const pure = report.rows.find((r) => r.dataset === row.dataset && r.algorithm === row.algorithm && r.method === 'pure');
  return pure && row.method !== 'pure' ? row.gbPerSecond / pure.gbPerSecond : undefined;
}

/** A plain-text table: GB/s, ratio to the machine's and one core's compute limit, to pure, peak RSS. */
export function renderTable(report: BenchReport): string {
  const { machine, limits } = report;
  const lines = [
    machineLine(machine),
    `medians of ${report.rounds} interleaved rounds${report.cold ? ', cold page cache' : ''}; decimal GB/s`,
    `compute limit (OpenSSL, in memory): ${(['sha256', 'sha512'] as const)
      .filter((a) => limits.machine[a] !== undefined)
      .map((a) => `${a} ${limits.machine[a]!.toFixed(3)} all cores, ${limits.core[a]!.toFixed(3)} one core`)
      .join('; ')}`,
    '',
    ['data set', 'algorithm', 'method', 'GB/s', 'x limit', 'x 1 core', 'x pure'].map((h, i) => h.padEnd(i < 3 ? 16 : 10)).join('').trimEnd(),
  ];
  for (const row of sortRows(report.rows)) {
    const all = limits.machine[row.algorithm];
    const core = limits.core[row.algorithm];
    const ratio = (value: number | undefined) => (value === undefined ? '' : value.toFixed(2));
    lines.push(
      [
        row.dataset.padEnd(16),
        row.algorithm.padEnd(16),
        row.method.padEnd(16),
        row.gbPerSecond.toFixed(3).padEnd(10),
        ratio(all && row.gbPerSecond / all).padEnd(10),
        ratio(core && row.gbPerSecond / core).padEnd(10),
        ratio(vsPure(report, row)),
      ]
        .join('')
        .trimEnd(),
    );
  }
  if (report.rss.length > 0) {
    lines.push('', 'peak resident memory of a fresh process hashing once (sha256):');
    for (const row of report.rss) {
      lines.push(`  ${row.dataset} (${(row.bytes / 2 ** 30).toFixed(2)} GiB, ${row.files} files), ${row.backend}: ${row.peakRssMiB.toFixed(0)} MiB`);
    }
  }
  if (report.verifyOverhead) {
    const { hashMs, verifyMs, overheadMs } = report.verifyOverhead;
    lines.push('', `verifyVariant on kernel-variant (native): ${verifyMs.toFixed(1)} ms, hashing alone ${hashMs.toFixed(1)} ms: ${overheadMs.toFixed(1)} ms more`);
  }
  if (report.hubLoads?.length) {
    lines.push('', `kernel loads from a local Hub (medians of ${report.rounds}; a plain download fetches the same files from the same server):`);
    for (const row of report.hubLoads) {
      lines.push(
        `  ${row.dataset} (${(row.bytes / 2 ** 30).toFixed(2)} GiB, ${row.files} files): first load ${row.firstLoadSeconds.toFixed(2)} s, plain download ${row.plainSeconds.toFixed(2)} s: x${row.ratio.toFixed(2)}` +
          `${row.streamed ? '' : ' (NOT verified as it streamed: hashed again)'}; second load ${row.secondLoadOfflineMs.toFixed(1)} ms offline, ${row.secondLoadOnlineMs.toFixed(1)} ms online (a stat of each of its files alone: ${row.statFloorMs.toFixed(1)} ms)`,
      );
    }
  }
  if (report.listOpen) {
    const { entries, coldMs, warmMs } = report.listOpen;
    lines.push(`  a trusted publisher list of ${entries} entries, the load's first stage: ${coldMs.toFixed(1)} ms opened with no state, ${warmMs.toFixed(1)} ms warm (from the user's state, no request)`);
  }
  lines.push(...startUpLines(report), ...peerLines(report), ...readFloorLines(report));
  for (const row of report.manyFiles ?? []) {
    lines.push(
      '',
      `verifyVariant of ${row.dataset} (${row.files} files; fresh processes, medians): ${row.verifyMs.toFixed(0)} ms, peak ${row.verifyPeakRssMiB.toFixed(0)} MiB; hashing alone ${row.hashMs.toFixed(0)} ms, peak ${row.hashPeakRssMiB.toFixed(0)} MiB: x${row.ratio.toFixed(2)}`,
    );
  }
  return lines.join('\n');
}

/** The CLI's start against Node's own (`node -e 0`). */
function startUpLines(report: BenchReport): string[] {
  if (!report.startUp?.length) return [];
  const width = Math.max(...report.startUp.map((row) => row.name.length));
  return [
    '',
    `start-up, start to exit (medians of ${report.rounds * 5} interleaved runs; x node -e 0, the targets are <= 2 for --version, <= 5 for verify; and CPU time):`,
    ...report.startUp.map(
      (row) => `  ${row.name.padEnd(width)}  ${row.medianMs.toFixed(1).padStart(7)} ms  x${row.overNode.toFixed(2)}   cpu ${row.medianCpuMs.toFixed(1).padStart(7)} ms  x${row.cpuOverNode.toFixed(2)}`,
    ),
  ];
}

/**
 * Whole processes on the same files; and BLAKE3 in process (native, the table above) against
 * b3sum's whole process, on the data sets both measured.
 */
function peerLines(report: BenchReport): string[] {
  if (!report.peers?.length) return [];
  const lines = ['', `whole processes, start to exit (medians of ${report.rounds}; peer / kernelseal, of the times and of the CPU times: above 1, kernelseal digest is faster):`];
  const groups = [...new Set(report.peers.map((row) => `${row.dataset}\u0000${row.algorithm}`))];
  for (const group of groups) {
    const [dataset, algorithm] = group.split('\u0000');
    const rows = report.peers.filter((row) => row.dataset === dataset && row.algorithm === algorithm);
    const time = (row: PeerRow) => `${row.medianSeconds.toFixed(3)} s (cpu ${row.medianCpuSeconds.toFixed(3)} s)`;
    const cells = rows.map((row) =>
      row.tool === 'kernelseal digest' ? `${row.tool} ${time(row)}` : `${row.tool} ${time(row)} = ${row.peerOverKernelseal.toFixed(2)} (cpu ${row.peerCpuOverKernelseal.toFixed(2)})`,
    );
    lines.push(`  ${dataset} ${algorithm}: ${cells.join('; ')}`);
  }
  for (const b3sum of report.peers.filter((row) => row.tool === 'b3sum')) {
    const native = report.rows.find((row) => row.dataset === b3sum.dataset && row.algorithm === 'blake3' && row.method === 'native');
    if (native) {
      lines.push(
        `  ${b3sum.dataset} blake3 in process (native) ${native.medianSeconds.toFixed(3)} s (cpu ${native.medianCpuSeconds.toFixed(3)} s) against b3sum's whole process ${b3sum.medianSeconds.toFixed(3)} s (cpu ${b3sum.medianCpuSeconds.toFixed(3)} s): b3sum / native = ${(b3sum.medianSeconds / native.medianSeconds).toFixed(2)} (cpu ${(b3sum.medianCpuSeconds / native.medianCpuSeconds).toFixed(2)}; target >= 1)`,
      );
    }
  }
  return lines;
}

/** The engine against a plain read loop over the same files, in one process (crates/engine/examples/read_floor.rs). */
function readFloorLines(report: BenchReport): string[] {
  if (report.readFloorUnavailable) return ['', `read floor: ${report.readFloorUnavailable}`];
  if (!report.readFloor?.length) return [];
  const lines = ['', `read floor (the engine's read_floor example: one process, medians of ${report.rounds} interleaved rounds, GB/s; the target is engine >= 0.95 x floor):`];
  for (const row of report.readFloor) {
    const native = report.rows.find((r) => r.dataset === row.dataset && r.algorithm === row.algorithm && r.method === 'native');
    const throughNode = native ? `; native through Node (the table above) ${native.gbPerSecond.toFixed(3)} = ${(native.gbPerSecond / row.floor).toFixed(2)} x floor` : '';
    lines.push(
      `  ${row.dataset} ${row.algorithm}: limit ${row.limit.toFixed(3)}, floor ${row.floor.toFixed(3)} (${(row.floor / row.limit).toFixed(2)} x limit), engine ${row.engine.toFixed(3)} = ${row.engineOverFloor.toFixed(2)} x floor${throughNode}`,
    );
  }
  return lines;
}

const COLORS: Record<string, string> = { native: '#1f6feb', 'native-read': '#54aeff', pure: '#8957e5', 'naive-stream': '#9a6700', 'native-1-thread': '#57606a' };

/** A grouped bar chart (SVG) of GB/s per data set and algorithm, with the compute limit marked. */
export function renderSvg(report: BenchReport): string {
  const groups = [...new Set(sortRows(report.rows).map((r) => `${r.dataset}\u0000${r.algorithm}`))];
  const max = Math.max(...report.rows.map((r) => r.gbPerSecond), ...Object.values(report.limits.machine).map((v) => v ?? 0)) * 1.1;
  const barWidth = 14;
  const groupWidth = METHOD_ORDER.length * barWidth + 24;
  const width = Math.max(960, 80 + groups.length * groupWidth);
  const height = 360;
  const plotTop = 40;
  const plotBottom = 280;
  const y = (gb: number) => plotBottom - (gb / max) * (plotBottom - plotTop);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14">kernelseal digest throughput (GB/s, medians of ${report.rounds} interleaved rounds; ${escape(report.machine.cpu)}, ${report.machine.cores} cores, SHA extensions ${report.machine.shaExtensions})</text>`,
  ];
  for (let tick = 0; tick <= max; tick += max > 4 ? 1 : max > 1 ? 0.5 : 0.1) {
    parts.push(`<line x1="60" x2="${width - 10}" y1="${y(tick)}" y2="${y(tick)}" stroke="#eee"/><text x="55" y="${y(tick) + 4}" text-anchor="end">${tick.toFixed(1)}</text>`);
  }
  groups.forEach((group, g) => {
    const [dataset, algorithm] = group.split('\u0000') as [string, DigestAlgorithm];
    const x0 = 70 + g * groupWidth;
    METHOD_ORDER.forEach((method, m) => {
      const row = report.rows.find((r) => r.dataset === dataset && r.algorithm === algorithm && r.method === method);
      if (!row) return;
      const x = x0 + m * barWidth;
      parts.push(
        `<rect x="${x}" y="${y(row.gbPerSecond)}" width="${barWidth - 2}" height="${plotBottom - y(row.gbPerSecond)}" fill="${COLORS[method]}"><title>${method}: ${row.gbPerSecond.toFixed(3)} GB/s</title></rect>`,
      );
    });
    const limit = report.limits.machine[algorithm];
    if (limit !== undefined) {
      parts.push(`<line x1="${x0 - 2}" x2="${x0 + METHOD_ORDER.length * barWidth}" y1="${y(limit)}" y2="${y(limit)}" stroke="#cf222e" stroke-dasharray="3,2"/>`);
    }
    parts.push(`<text x="${x0}" y="${plotBottom + 14}">${escape(dataset)}</text><text x="${x0}" y="${plotBottom + 27}">${algorithm}</text>`);
  });
  METHOD_ORDER.forEach((method, m) => {
    parts.push(`<rect x="${70 + m * 130}" y="${height - 30}" width="10" height="10" fill="${COLORS[method]}"/><text x="${84 + m * 130}" y="${height - 21}">${method}</text>`);
  });
  const legendEnd = 70 + METHOD_ORDER.length * 130;
  parts.push(`<line x1="${legendEnd}" x2="${legendEnd + 20}" y1="${height - 25}" y2="${height - 25}" stroke="#cf222e" stroke-dasharray="3,2"/><text x="${legendEnd + 24}" y="${height - 21}">compute limit (all cores)</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

function escape(text: string): string {
  return text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
