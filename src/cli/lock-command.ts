import { existsSync } from 'node:fs';
import { isRepoId, lockKernel, offlineFromEnv, readLockfile, writeLockfile, type KernelLock } from './library/verifying.js';
import { OUTPUT_HELP, OUTPUT_OPTIONS, Output } from './output.js';
import { PUBLISHER_HELP, PUBLISHER_OPTIONS, publisherAnchorFrom } from './publisher-options.js';
import { TRUST_ALIASES, TRUST_HELP, TRUST_OPTIONS, trustAnchorFrom, trustedRootsFrom } from './trust-options.js';
import { UsageError, parseCommandLine, parseDuration, type Command } from './usage.js';

export const lockCommand: Command = {
  name: 'lock',
  help: `Usage: kernelseal lock <repo-id[@version]>... [--lockfile FILE] [options]

Resolves each kernel's revision on the Hub and writes its entry in a kernels.lock (the kernels
library's format: repo_id, sha, a hash per variant), adding who signed it: the identities
(issuer, source repository, workflow, ref) of every variant's verified signature, and, with a
publisher list, its pinned root's digest and its targets version, the lowest a later load
accepts. Only each variant's metadata.json and its bundle are downloaded; a signature that does
not verify locks nothing. Other entries of the file are kept. A load with the lock
(fetch/verify --lockfile, getKernel({ lock })) then needs a signature by one of those identities
as well as one the policy or list trusts; the kernels library reads the file as before (our
fields sit beside "variants", never inside its entries).

      --lockfile FILE               the file to write (default kernels.lock)
      --version N                   the version branch v<N> (default: main; or org/name@N)
      --revision REV                or a branch, tag or commit
      --timeout DURATION            the longest wait for any answer from the Hub (30s)

${TRUST_HELP}

${PUBLISHER_HELP}

${OUTPUT_HELP}

Examples:
  kernelseal lock kernels-community/relu@1
  kernelseal lock my-org/relu@2 --publishers hf://trust-org/kernel-publishers --publishers-root root.json

Exit status: 0 locked, 1 a signature did not verify (nothing written), 2 usage error.`,

  async run(args) {
    const { values, positionals } = parseCommandLine(
      args,
      {
        ...TRUST_OPTIONS,
        ...PUBLISHER_OPTIONS,
        lockfile: { type: 'string', default: 'kernels.lock' },
        version: { type: 'string' },
        revision: { type: 'string' },
        timeout: { type: 'string' },
        ...OUTPUT_OPTIONS,
      },
      TRUST_ALIASES,
    );
    if (positionals.length === 0) throw new UsageError('expected at least one repository id (org/name, or org/name@version)');
    if (values.version !== undefined && values.revision !== undefined) throw new UsageError('--version and --revision exclude each other');
    if (values.repo !== undefined) throw new UsageError('--repo is for local folders: lock names its repositories itself');
    if (values.offline || offlineFromEnv()) throw new UsageError(`lock reads each kernel's revision and signatures from the Hub: it cannot run offline (${values.offline ? '--offline' : 'HF_HUB_OFFLINE'})`);
    const kernels = positionals.map((operand) => {
      const [repoId, version] = operand.split('@') as [string, string | undefined];
      if (!isRepoId(repoId)) throw new UsageError(`${JSON.stringify(operand)} is not a repository id: write org/name or org/name@version`);
      const revision = version ?? values.version;
      if (revision !== undefined && !/^\d+$/.test(revision)) throw new UsageError(`${JSON.stringify(operand)}: a version is a whole number`);
      return { repoId, ...(revision !== undefined ? { version: Number(revision) } : values.revision !== undefined ? { revision: values.revision } : {}) };
    });
    const file = values.lockfile as string;
    const kept = existsSync(file) ? await readLockfile(file).catch((error: Error) => { throw new UsageError(error.message); }) : [];
    const warn = (message: string) => process.stderr.write(`kernelseal: warning: ${message}\n`);
    const trustedRoot = await trustedRootsFrom(values);
    const hub = typeof values.timeout === 'string' ? { timeoutMs: parseDuration(values.timeout, '--timeout') } : {};
    const output = new Output(this.name, values);
    const locks: KernelLock[] = [];
    for (const kernel of kernels) {
      // Re-locking takes no older list, and no other root, than the lock already names.
      const before = kept.find((lock) => lock.repoId.toLowerCase() === kernel.repoId.toLowerCase());
      const listed = await publisherAnchorFrom(values, kernel.repoId, warn, before?.publisherList);
      const anchor = listed ?? (await trustAnchorFrom(values, 'kernels-community'));
      const publisherList = listed?.publishers.list;
      const locked = await lockKernel(kernel.repoId, { ...kernel, ...hub, ...anchor, trustedRoot, publisherList });
      if ('result' in locked) {
        output.add({ kind: 'variant', result: locked.result });
        return output.finish(); // nothing is written when a signature fails
      }
      for (const variant of locked.unsigned) warn(`${kernel.repoId}@${locked.lock.commit} ${variant} is not signed: locked by its hash alone`);
      locks.push(locked.lock);
    }
    const named = new Set(locks.map((lock) => lock.repoId.toLowerCase()));
    await writeLockfile(file, [...kept.filter((lock) => !named.has(lock.repoId.toLowerCase())), ...locks]);
    for (const lock of locks) output.add({ kind: 'locked', subject: `${lock.repoId}@${lock.commit}`, lock, file });
    return output.finish();
  },
};
