// The documents and the code's comments point at files of this repository by path (README's
// tables, "see src/..." in a comment): each such path must exist, so that a file moved or
// renamed takes its mentions along. And they cite what is in the repository, never an issue
// tracker that is not.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/package.js';

/** The documents, and the sources whose comments cite paths (the tests' strings are test data). */
const READ = /^(README|DEVELOPERS|SECURITY)\.md$|^(docs|npm)\/.*\.md$|^(src|crates|scripts)\/.*\.(ts|rs|mjs|sh|toml)$|^\.ci\/run$|^\.github\/workflows\/|^Cargo\.toml$/;
/**
 * A path from the repository's root: a top-level folder of ours, then more. `.github/` is left
 * out: the docs name the reader's own workflows (`.github/workflows/build.yaml`) too.
 */
const PATH = /(?<![\w./@$-])((?:src|crates|scripts|docs|__test__|examples|npm|trust|\.ci)\/[\w./-]*[\w/])/g;

const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n');

describe('the paths the docs and comments name', () => {
  it('all exist (a crate names its own files from its folder)', () => {
    const files = tracked.filter((file) => READ.test(file));
    expect(files.length).toBeGreaterThan(100);
    const stale = files.flatMap((file) => {
      const crate = /^crates\/[\w-]+\//.exec(file)?.[0];
      return readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .flatMap((line, i) => [...line.matchAll(PATH)].map((m) => ({ at: `${file}:${i + 1}`, path: m[1]! })))
        .filter(({ path }) => !existsSync(join(ROOT, path)) && !(crate && existsSync(join(ROOT, crate, path))))
        .map(({ at, path }) => `${at}: ${path} does not exist`);
    });
    expect(stale).toEqual([]);
  });

  it('cite documents of the repository, never an issue by its number (the tracker is not in it)', () => {
    const files = tracked.filter((file) => READ.test(file) || /^__test__\/[^/]+\.ts$|^__test__\/helpers\//.test(file));
    const citing = files.flatMap((file) =>
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .flatMap((line, i) => (/\bissues? #?\d+\b/i.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(citing).toEqual([]);
  });
});
