import { getKernel, KernelRefusedError, type FetchedKernel, type GetKernelOptions } from '../hub/get-kernel.js';
import { readLockfile } from '../hub/lockfile.js';
import type { VariantSelector } from '../hub/variant-name.js';
import { describeSigner, renderResult } from './render-result.js';
import { TRUST_HELP, TRUST_OPTIONS, trustAnchorFrom, trustedRootFrom } from './trust-options.js';
import { EXIT_FAILURE, EXIT_OK, UsageError, parseCommandLine, type Command } from './usage.js';

/** The options of the commands that fetch from the Hub. */
export const HUB_OPTIONS = {
  version: { type: 'string' },
  revision: { type: 'string' },
  variant: { type: 'string' },
  backend: { type: 'string' },
  'backend-version': { type: 'string' },
  torch: { type: 'string' },
  os: { type: 'string' },
  arch: { type: 'string' },
  'repo-type': { type: 'string', default: 'kernel' },
  'cache-dir': { type: 'string' },
  lockfile: { type: 'string' },
  'allow-unsigned': { type: 'boolean', default: false },
} as const;

export const HUB_HELP = `Which kernel:
      --version N                   the version branch v<N> (default: main)
      --revision REV                or a branch, tag or commit
      --variant NAME                a variant, e.g. torch210-cxx11-cu128-x86_64-linux
      --backend B --backend-version V --torch T --os O --arch A
                                    or the newest variant that fits (backend versions up to V)
      --lockfile FILE               a kernels.lock: pins the commit, checks the variant hash
      --repo-type kernel|model      the kind of Hub repository (default kernel)

Where:
      --cache-dir DIR               the cache (default HF_HUB_CACHE, ~/.cache/huggingface/hub)
      --allow-unsigned              take a variant that has no signature at all (loudly);
                                    a variant that fails verification is never taken
Environment: HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE, HF_HUB_OFFLINE=1 (offline: the cache only).`;

type HubValues = { [K in keyof typeof HUB_OPTIONS]?: string | boolean } & { offline?: boolean };

/** getKernel options from the command line (the trust anchor and root are added by the caller). */
export async function hubOptionsFrom(repoId: string, values: HubValues): Promise<GetKernelOptions> {
  if (values.version !== undefined && values.revision !== undefined) throw new UsageError('--version and --revision exclude each other');
  const version = values.version === undefined ? undefined : Number(values.version);
  if (version !== undefined && (!Number.isInteger(version) || version < 0)) throw new UsageError('--version must be a whole number');
  if (values['repo-type'] !== 'kernel' && values['repo-type'] !== 'model') throw new UsageError('--repo-type must be kernel or model');
  const selector: VariantSelector = {};
  for (const [flag, key] of [['backend', 'backend'], ['backend-version', 'backendVersion'], ['torch', 'torch'], ['os', 'os'], ['arch', 'arch']] as const) {
    if (typeof values[flag] === 'string') selector[key] = values[flag] as string;
  }
  if (values.variant !== undefined && Object.keys(selector).length > 0) throw new UsageError('--variant excludes --backend, --torch, --os and --arch');
  let lock;
  if (typeof values.lockfile === 'string') {
    lock = (await readLockfile(values.lockfile).catch((error: Error) => { throw new UsageError(error.message); })).find((entry) => entry.repoId === repoId);
    if (!lock) throw new UsageError(`${values.lockfile} has no entry for ${repoId}`);
  }
  return {
    version,
    revision: values.revision as string | undefined,
    variant: values.variant as string | undefined,
    selector,
    repoType: values['repo-type'],
    cacheDir: values['cache-dir'] as string | undefined,
    lock,
    allowUnsigned: values['allow-unsigned'] === true,
    offline: values.offline || process.env.HF_HUB_OFFLINE === '1',
  };
}

/** "kernels-community/relu@v1 torch210-...": how a fetched variant is named in messages. */
export const label = (kernel: Pick<FetchedKernel, 'repoId' | 'revision' | 'variant'>) => `${kernel.repoId}@${kernel.revision} ${kernel.variant}`;

export const fetchCommand: Command = {
  name: 'fetch',
  summary: 'fetch a kernel from the Hub, verify it, and print where it is',
  help: `Usage: kernelseal fetch <repo-id> [--version N | --revision REV] [--variant NAME | selector] [options]

Fetches one variant of a kernel (build/<variant>/**, no *.pyc) into the Hugging Face cache with
resumed, parallel, size- and content-checked downloads, verifies it, and prints the path of the
verified variant on stdout (status on stderr). Nothing that does not verify is handed back.
A receipt lets a later fetch of the same unchanged files skip re-hashing.

${HUB_HELP}

${TRUST_HELP}

      --json                        print the result as JSON

Examples:
  kernelseal fetch kernels-community/relu --version 1 --backend cuda --backend-version 12.8
  cd "$(kernelseal fetch kernels-community/relu --version 1 --variant torch210-cxx11-cpu-x86_64-linux)"

Exit status: 0 fetched and verified, 1 refused or failed, 2 usage error.`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, { ...TRUST_OPTIONS, ...HUB_OPTIONS, json: { type: 'boolean', default: false } });
    if (positionals.length !== 1) throw new UsageError('expected exactly one repository id');
    const repoId = positionals[0]!;
    const options = await hubOptionsFrom(repoId, values);
    const anchor = await trustAnchorFrom(values, 'kernels-community');
    const trustedRoot = await trustedRootFrom(values);
    try {
      const kernel = await getKernel(repoId, { ...options, ...anchor, trustedRoot });
      const status = kernel.verified ? `✅ ${label(kernel)}: kernel metadata is correctly signed\n   ${describeSigner(kernel.signer!)}` : `⚠️  ${label(kernel)}: NOT SIGNED, taken because of --allow-unsigned`;
      process.stderr.write(`${status}${kernel.fromReceipt ? '\n   (files unchanged since last verified: not re-hashed)' : ''}\n`);
      const json = { ...kernel, digest: kernel.digest && { algorithm: kernel.digest.algorithm, files: kernel.digest.files.size } };
      process.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : `${kernel.path}\n`);
      return EXIT_OK;
    } catch (error) {
      if (!(error instanceof KernelRefusedError) || !error.result || !error.kernel) throw error;
      process.stderr.write(`${renderResult({ ...error.result, path: label(error.kernel) })}\n`);
      if (values.json) process.stdout.write(`${JSON.stringify({ repoId, ok: false, status: error.result.status, reason: error.message })}\n`);
      return EXIT_FAILURE;
    }
  },
};
