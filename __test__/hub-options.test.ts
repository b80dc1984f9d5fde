// The Hub flags as the fetching commands read them (src/cli/hub-options.ts): a lock file that
// cannot be used is a usage error naming it; anything else that goes wrong reading it is a bug
// and propagates as it is (docs/architecture.md, "Errors").
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { tempDir } from './helpers/fs.js';

const lockfile = vi.hoisted(() => ({ broken: undefined as Error | undefined }));
vi.mock('../dist/kernels/hub/lockfile.js', async (importOriginal) => {
  const original = (await importOriginal()) as typeof import('../dist/kernels/hub/lockfile.js');
  return {
    ...original,
    readLockfile: (path: string) => (lockfile.broken ? Promise.reject(lockfile.broken) : original.readLockfile(path)),
  };
});

const { hubOptionsFrom } = (await import('../dist/cli/hub-options.js')) as typeof import('../dist/cli/hub-options.js');
const { UsageError } = (await import('../dist/cli/usage.js')) as typeof import('../dist/cli/usage.js');

const REPO = 'kernels-community/relu';
const values = (lock: string) => ({ 'repo-type': 'kernel', variant: 'torch210-cxx11-cpu-x86_64-linux', lockfile: lock });

describe('--lockfile', () => {
  it('takes the entry of the repository', async () => {
    const lock = join(tempDir(), 'kernels.lock');
    writeFileSync(lock, JSON.stringify([{ repo_id: REPO, sha: 'a'.repeat(40), variants: {} }]));
    expect((await hubOptionsFrom(REPO, values(lock))).lock).toEqual({ repoId: REPO, commit: 'a'.repeat(40), variants: {} });
  });

  it('a lock file that cannot be used is a usage error naming it and why', async () => {
    const lock = join(tempDir(), 'kernels.lock');
    writeFileSync(lock, JSON.stringify([{ repo_id: REPO, sha: 'main', variants: {} }]));
    await expect(hubOptionsFrom(REPO, values(lock))).rejects.toThrow(new UsageError(`${lock}[0]: sha must be a commit`));
    await expect(hubOptionsFrom(REPO, values(join(tempDir(), 'missing.lock')))).rejects.toThrow(UsageError);
  });

  it('any other error propagates as it is: a bug is never a usage error', async () => {
    lockfile.broken = new TypeError('a bug in reading the lock file');
    try {
      await expect(hubOptionsFrom(REPO, values('/any/kernels.lock'))).rejects.toThrow(lockfile.broken);
      await expect(hubOptionsFrom(REPO, values('/any/kernels.lock'))).rejects.not.toThrow(UsageError);
    } finally {
      lockfile.broken = undefined;
    }
  });
});
