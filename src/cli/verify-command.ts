import { existsSync } from 'node:fs';
import { getKernel, listVariants } from '../kernels/hub/get-kernel.js';
import { KernelRefusedError } from '../kernels/hub/load-outcome.js';
import { isRepoId } from '../kernels/hub/hub-client.js';
import { verifyVariant } from '../kernels/verify-variant.js';
import type { VerificationResult } from '../kernels/result.js';
import { HUB_HELP, HUB_OPTIONS, hubOptionsFrom, label, withProgress } from './hub-options.js';
import { printable } from './format.js';
import { ProgressBar } from './progress-bar.js';
import { renderResult, resultToJSON } from './render-result.js';
import { TRUST_HELP, TRUST_OPTIONS, trustAnchorFrom, trustedRootFrom } from './trust-options.js';
import { EXIT_FAILURE, EXIT_OK, UsageError, parseCommandLine, type Command } from './usage.js';
import { expandKernel, type VariantTarget } from './variants.js';

/** `org/name@1` (a version) or `org/name@rev` (a revision): a kernel on the Hub. */
const REMOTE = /^([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+)@(.+)$/;

type Target = { remote: [repoId: string, ref: string | undefined] } | { local: VariantTarget[] };

/**
 * What each argument names, all read before anything is verified (a usage error never comes
 * half-way). A path that exists is a path, whatever it looks like: never silently the Hub's
 * copy. Otherwise `org/name@1`, `org/name 1` (the kernels CLI's order) and `org/name` with
 * --version or --revision name a kernel on the Hub.
 */
function hubOrLocal(positionals: string[], refFlag: boolean): Target[] {
  const targets: Target[] = [];
  for (let i = 0; i < positionals.length; i++) {
    const positional = positionals[i]!;
    const remote = REMOTE.exec(positional);
    if (remote && !existsSync(positional)) {
      targets.push({ remote: [remote[1]!, remote[2]!] });
    } else if (isRepoId(positional) && !existsSync(positional)) {
      const next = positionals[i + 1];
      if (next !== undefined && /^\d+$/.test(next) && !existsSync(next)) {
        targets.push({ remote: [positional, next] });
        i += 1;
      } else if (refFlag) {
        targets.push({ remote: [positional, undefined] });
      } else {
        throw new UsageError(`${positional}: no such directory (a kernel on the Hub: ${positional}@<version>, or add --version N)`);
      }
    } else {
      targets.push({ local: expandKernel(positional) });
    }
  }
  return targets;
}

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'verify kernel variants, local or on the Hub: signature, signer policy, every file',
  help: `Usage: kernelseal verify <variant-dir | kernel-dir | repo-id@version | repo-id VERSION>... [options]

For each variant: checks the Sigstore bundle metadata.json.sigstore over the raw bytes of
metadata.json, checks that the signer is trusted, then re-hashes every file and compares it
with the signed digest. A kernel directory (one with build/) stands for all its variants.
A kernel on the Hub (org/name@1 for version 1, or @<revision>) is fetched into the cache
first (a local path that exists is always read as a path; write ./org/name@1 to be sure): the variant for this machine, or every variant with --all-variants.
By default only builds of huggingface/kernels-community are trusted (--policy
kernels-community).

${TRUST_HELP}

Kernels on the Hub:
      --all-variants                verify every variant under build/
${HUB_HELP.split('\n').slice(1).join('\n')}

Python bytecode (*.pyc, __pycache__/): no digest covers it, and Python runs a planted
.pyc instead of the signed source, so a variant holding any fails by default:
      --remove-bytecode             delete it once everything else verified (Python rebuilds
                                    it from the verified sources)
      --allow-bytecode              keep it, unverified, as the reference does (warns)
A symlinked directory, a FIFO or device, or a directory named *.pyc always fails: the
signed digest cannot cover it.

Output:
      --json                        print an array of results (status, signer, violations)

Examples:
  kernelseal verify build/torch210-cxx11-cu128-x86_64-linux
  kernelseal verify kernels-community/relu@1 --all-variants
  kernelseal verify kernels-community/relu 1          # as 'kernels verify-signature' takes it
  kernelseal verify kernels-community/relu --revision main
  kernelseal verify my-kernel/ --policy my-policy.json
  kernelseal verify build/torch-cpu --certificate-identity-regexp \\
      'https://github.com/my-org/my-kernel/\\.github/workflows/build\\.yaml@refs/heads/.*' \\
      --certificate-oidc-issuer https://token.actions.githubusercontent.com
  kernelseal verify build/torch-cpu --key signing-key.pub --offline

Exit status: 0 every variant verified, 1 any did not, 2 usage error.`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      ...TRUST_OPTIONS,
      ...HUB_OPTIONS,
      'all-variants': { type: 'boolean', default: false },
      'remove-bytecode': { type: 'boolean', default: false },
      'allow-bytecode': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    });
    if (positionals.length === 0) throw new UsageError('expected at least one variant directory or repo-id@version');
    if (values['remove-bytecode'] && values['allow-bytecode']) throw new UsageError('--remove-bytecode and --allow-bytecode exclude each other');
    const bytecode = values['remove-bytecode'] ? 'remove' : values['allow-bytecode'] ? 'allow' : 'refuse';
    // Every argument is read before anything is verified: a usage error never comes half-way.
    const targets = hubOrLocal(positionals, values.version !== undefined || values.revision !== undefined);
    const anchor = await trustAnchorFrom(values, 'kernels-community');
    const trustedRoot = await trustedRootFrom(values);
    const results: VerificationResult[] = [];
    const report = (result: VerificationResult) => {
      results.push(result);
      if (!values.json) process.stdout.write(`${renderResult(result)}\n`);
    };
    for (const target of targets) {
      if ('local' in target) {
        for (const variant of target.local) {
          if ('refused' in variant) report({ path: variant.path, status: 'variant-invalid', reason: variant.refused });
          else {
            const bar = new ProgressBar(`verifying ${printable(variant.path)}`);
            report(await verifyVariant(variant.path, { ...anchor, trustedRoot, bytecode, onProgress: (p) => bar.update(p) }).finally(() => bar.clear()));
          }
        }
        continue;
      }
      const [repoId, ref] = target.remote;
      const options = await hubOptionsFrom(repoId, { ...values, ...(ref === undefined ? {} : /^\d+$/.test(ref) ? { version: ref } : { revision: ref }) });
      const listed = values['all-variants'] ? await listVariants(repoId, options) : undefined;
      const variants = listed ? listed.variants : [options.variant];
      // Nothing to check is no ✅: a revision without a single variant fails, saying so.
      if (listed && variants.length === 0) report({ path: `${repoId}@${listed.revision}`, status: 'variant-invalid', reason: `no variant under build/ at ${listed.commit}: nothing to verify` });
      for (const variant of variants) {
        try {
          const kernel = await withProgress(`${repoId} ${variant ?? ''}`.trim(), (progress) => getKernel(repoId, { ...options, variant, ...anchor, trustedRoot, ...progress }));
          if (!kernel.verified) report({ path: label(kernel), status: 'signature-missing' });
          else report({ path: label(kernel), status: 'verified', signer: kernel.signer!, metadata: kernel.metadata!, digest: kernel.digest! });
        } catch (error) {
          if (!(error instanceof KernelRefusedError) || !error.result || !error.kernel) throw error;
          report({ ...error.result, path: label(error.kernel) });
        }
      }
    }
    if (values.json) process.stdout.write(`${JSON.stringify(results.map(resultToJSON), null, 2)}\n`);
    return results.length > 0 && results.every((result) => result.status === 'verified') ? EXIT_OK : EXIT_FAILURE;
  },
};
