import { type FetchedKernel, type GetKernelOptions, hubEndpoint, offlineFromEnv, LockfileError, readLockfile, thisMachine } from './library/verifying.js';
import type { HashProgress, VariantSelector } from './library/hashing.js';
import { ProgressBar } from './progress-bar.js';
import type { Checked } from './render-result.js';
import { UsageError, parseDuration } from './usage.js';

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
  'accept-new-signer': { type: 'boolean', default: false },
  'trust-remote-code': { type: 'boolean', default: false },
  timeout: { type: 'string' },
} as const;

export const HUB_HELP = `Which kernel:
      --version N                   the version branch v<N> (default: main)
      --revision REV                or a branch, tag or commit
      --variant NAME                a variant, e.g. torch210-cxx11-cu128-x86_64-linux
      --backend B --backend-version V --torch T --os O --arch A
                                    or the newest variant that fits (backend versions up to V).
                                    OS and CPU default to this machine's; the backend is
                                    never guessed: cpu on a Linux machine with no NVIDIA
                                    driver or ROCm device, else say --backend (a kernel
                                    built for several backends is refused until you do)
      --lockfile FILE               a kernels.lock: pins the commit, checks the variant hash
      --repo-type kernel|model      the kind of Hub repository (default kernel)

Where:
      --cache-dir DIR               the cache (default: KERNELS_CACHE as the kernels library
                                    reads it, else HF_HUB_CACHE, ~/.cache/huggingface/hub)
      --allow-unsigned              take a variant that has no signature at all (loudly);
                                    a variant that fails verification is never taken
      --trust-remote-code           under the default policy, do not ask the Hub whether the
                                    organisation is a trusted kernel publisher (as the kernels
                                    library's trust_remote_code); the signature is checked all
                                    the same. Without it, a kernel whose organisation the Hub
                                    does not mark trusted (or that the Hub cannot say) is refused
      --accept-new-signer           take a signer other than the one first verified here for
                                    this repository (or no signature where there was one), and
                                    remember it. Without a lock or publisher list, a policy
                                    alone decides, so the first signer of each repository is
                                    kept in your state folder (~/.local/state/kernelseal/signers,
                                    KERNELSEAL_STATE_DIR) and a change is refused until accepted
      --timeout DURATION            the longest wait for any answer from the Hub (30s; 90s, 2m)
Environment: HF_ENDPOINT, HF_TOKEN (else the token 'hf auth login' saved in $HF_HOME/token),
KERNELS_CACHE (or HF_KERNELS_CACHE), HF_HUB_CACHE (or HUGGINGFACE_HUB_CACHE),
HF_HUB_OFFLINE=1|true|yes|on (the cache only, no network at all),
HF_HUB_DISABLE_PROGRESS_BARS=1 (no progress bars). When the Hub cannot be reached, a revision already in the cache is used
(verified as always) with a warning.`;

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
  if (values.variant === undefined) {
    // This machine's OS and CPU unless asked otherwise; its backend only where it is certain.
    const machine = thisMachine();
    if (machine.backend && selector.backend === undefined && selector.os === undefined) selector.backend = machine.backend;
    selector.os ??= machine.os;
    selector.arch ??= machine.arch;
  }
  let lock;
  if (typeof values.lockfile === 'string') {
    if (values['allow-unsigned']) throw new UsageError('--allow-unsigned cannot be used with --lockfile: a lock names signed content, and nothing unsigned is taken under one');
    // A lock file that cannot be used is the command line's input (LockfileError); anything else is no usage error.
    const read = await readLockfile(values.lockfile).catch((error: unknown) => {
      throw error instanceof LockfileError ? new UsageError(error.message) : error;
    });
    lock = read.find((entry) => entry.repoId === repoId);
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
    acceptNewSigner: values['accept-new-signer'] === true,
    trustRemoteCode: values['trust-remote-code'] === true,
    offline: values.offline || offlineFromEnv(),
    ...(typeof values.timeout === 'string' ? { timeoutMs: parseDuration(values.timeout, '--timeout') } : {}),
  };
}


/**
 * Runs a fetch with progress on a terminal (stderr, src/cli/progress-bar.ts): a line when the
 * Hub is slow to answer, then the download, then the hashing. Hands back what it ran, and how
 * the files of a fetched kernel were checked: vouched for by a receipt, re-hashed (hashing
 * progress was reported), or hashed as they downloaded.
 */
export async function withProgress<T>(
  what: string,
  output: { quiet: boolean },
  run: (progress: Pick<GetKernelOptions, 'onProgress' | 'onHashProgress'>) => Promise<T>,
): Promise<{ value: T; checked: (kernel: FetchedKernel) => Checked | undefined }> {
  const download = new ProgressBar(`downloading ${what}`, output);
  const hashing = new ProgressBar(`verifying ${what}`, output);
  let heard = false;
  let hashed: HashProgress | undefined;
  const waiting = setTimeout(() => {
    if (!heard && process.stderr.isTTY && !output.quiet) process.stderr.write(`kernelseal: waiting for the Hub (${hubEndpoint()})...\n`);
  }, 2000).unref();
  try {
    const value = await run({
      onProgress: (p) => {
        heard = true;
        download.update(p);
      },
      onHashProgress: (p) => {
        heard = true;
        hashed = p;
        download.clear();
        hashing.update(p);
      },
    });
    const checked = (kernel: FetchedKernel): Checked | undefined => {
      const files = kernel.digest?.files.size;
      if (!kernel.verified || files === undefined) return undefined;
      if (kernel.fromReceipt) return { how: 'receipt', files };
      return hashed ? { how: 'hashed', files, bytes: hashed.bytesDone } : { how: 'streamed', files };
    };
    return { value, checked };
  } finally {
    clearTimeout(waiting);
    download.clear();
    hashing.clear();
  }
}

/** "kernels-community/relu@v1 torch210-...": how a fetched variant is named in messages. */
export const label = (kernel: Pick<FetchedKernel, 'repoId' | 'revision' | 'variant'>) => `${kernel.repoId}@${kernel.revision} ${kernel.variant}`;
