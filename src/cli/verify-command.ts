import { existsSync } from 'node:fs';
import { getKernel, isRepoId, KernelRefusedError, listVariants, verifyVariant, type VerificationResult, type TrustAnchor } from './library/verifying.js';
import type { HashProgress } from './library/hashing.js';
import { HUB_HELP, HUB_OPTIONS, hubOptionsFrom, label, withProgress } from './hub-options.js';
import { printable } from './format.js';
import { OUTPUT_HELP, OUTPUT_OPTIONS, Output } from './output.js';
import { ProgressBar } from './progress-bar.js';
import type { Checked } from './render-result.js';
import { TRUST_ALIASES, TRUST_HELP, TRUST_OPTIONS, trustAnchorFrom, trustGiven, trustedRootsFrom } from './trust-options.js';
import { PUBLISHER_HELP, PUBLISHER_OPTIONS, publisherAnchorFrom, publisherListNamed } from './publisher-options.js';
import { UsageError, parseCommandLine, type Command } from './usage.js';
import { refuseModelSigningMethod } from './model-signing-flags.js';
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
      if (!isRepoId(remote[1]!)) throw new UsageError(`${JSON.stringify(remote[1])} is not a repository id: write org/name`);
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
  help: `Usage: kernelseal verify <variant-dir | kernel-dir | repo-id@version | repo-id VERSION>... [options]

For each variant: checks the Sigstore bundle metadata.json.sigstore over the raw bytes of
metadata.json, checks that the signer is trusted, then re-hashes every file and compares it
with the signed digest. A kernel directory (one with build/) stands for all its variants.
A kernel on the Hub (org/name@1 for version 1, or @<revision>) is fetched into the cache
first (a local path that exists is always read as a path; write ./org/name@1 to be sure): the variant for this machine, or every variant with --all-variants.
By default only builds of huggingface/kernels-community are trusted (--policy
kernels-community).

${TRUST_HELP}

${PUBLISHER_HELP}

Kernels on the Hub:
      --all-variants                verify every variant under build/
      --filter-unsigned             leave out variants with no signature, and
      --filter-no-digest            variants whose metadata has no digest (older builds), as
                                    'kernels verify-signature' does: named on stderr, never
                                    counted; leaving out every variant is a failure. A
                                    signature someone deleted is left out too: survey with
                                    them, never decide what to load
${HUB_HELP.split('\n').slice(1).join('\n')}

Python bytecode (*.pyc, __pycache__/): no digest covers it, and Python runs a planted
.pyc instead of the signed source, so a variant holding any fails by default:
      --remove-bytecode             delete it once everything else verified (Python rebuilds
                                    it from the verified sources)
      --allow-bytecode              keep it, unverified, as the reference does (warns)
A symlinked directory, a FIFO or device, or a directory named *.pyc always fails: the
signed digest cannot cover it.

Source and provenance:
      --provenance                  also verify build/<variant>.provenance.sigstore.json
                                    (sign --provenance): SLSA provenance of the build whose
                                    subject is this metadata.json, signed by a signer the
                                    same policy trusts
      --allow-source-mismatch       where metadata.json states its source commit and the
                                    signing certificate names another (1.3.6.1.4.1.57264.1.13),
                                    warn instead of failing: for workflows that sign builds
                                    another run made

${OUTPUT_HELP}

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
  kernelseal verify build/torch210-cxx11-cu128-x86_64-linux --repo kernels-community/relu \\
      --publishers hf://datasets/trust-org/kernel-publishers --publishers-root root.json

model_signing's 'verify sigstore|key|certificate ...' is for models: see verify-model.

Exit status: 0 every variant verified, 1 any did not, 2 usage error or a directory that is
not there.`,

  async run(args) {
    // `verify sigstore --identity ...` is model_signing's command line, not a kernel's.
    refuseModelSigningMethod(args, 'verify');
    const { values, positionals } = parseCommandLine(
      args,
      {
        ...TRUST_OPTIONS,
        ...HUB_OPTIONS,
        ...PUBLISHER_OPTIONS,
        'all-variants': { type: 'boolean', default: false },
        'filter-unsigned': { type: 'boolean', default: false },
        'filter-no-digest': { type: 'boolean', default: false },
        'remove-bytecode': { type: 'boolean', default: false },
        'allow-bytecode': { type: 'boolean', default: false },
        provenance: { type: 'boolean', default: false },
        'allow-source-mismatch': { type: 'boolean', default: false },
        ...OUTPUT_OPTIONS,
      },
      TRUST_ALIASES,
    );
    if (positionals.length === 0) throw new UsageError('expected at least one variant directory or repo-id@version');
    if (values['remove-bytecode'] && values['allow-bytecode']) throw new UsageError('--remove-bytecode and --allow-bytecode exclude each other');
    const bytecode = values['remove-bytecode'] ? 'remove' : values['allow-bytecode'] ? 'allow' : 'refuse';
    // Every argument is read before anything is verified: a usage error never comes half-way.
    const targets = hubOrLocal(positionals, values.version !== undefined || values.revision !== undefined);
    const warn = (message: string) => process.stderr.write(`kernelseal: warning: ${message}\n`);
    // A list decides for a repository: a kernel on the Hub is its own; local variants are --repo's.
    const local = targets.some((target) => 'local' in target);
    const firstRemote = targets.find((target): target is Extract<Target, { remote: unknown }> => 'remote' in target)?.remote[0];
    if (!local && values.repo !== undefined && publisherListNamed(values)) throw new UsageError('--repo names the Hub repository of a local variant: a kernel on the Hub is decided for by its own name');
    const listed = await publisherAnchorFrom(values, local ? values.repo : firstRemote, warn);
    const anchor = listed ?? (await trustAnchorFrom(values, 'kernels-community'));
    // On the Hub with no trust flag: the library's default (kernels-community's policy, after the Hub's trustedKernelPublisher flag).
    const anchorFor = (repoId: string): TrustAnchor | Record<string, never> =>
      'publishers' in anchor ? { publishers: { list: anchor.publishers.list, repoId } } : trustGiven(values) ? anchor : {};
    const trustedRoots = await trustedRootsFrom(values);
    const sourceChecks = { provenance: values.provenance, sourceMismatch: values['allow-source-mismatch'] ? ('warn' as const) : ('fail' as const) };
    const output = new Output(this.name, values);
    // As `kernels verify-signature` does: variants that predate signing can be left out on request.
    const skipped = (result: VerificationResult) =>
      values['filter-unsigned'] && result.status === 'signature-missing'
        ? '--filter-unsigned'
        : values['filter-no-digest'] && (result.status === 'digest-missing' || result.status === 'metadata-missing')
          ? '--filter-no-digest'
          : undefined;
    const report = (result: VerificationResult, checked?: Checked) => output.add({ kind: 'variant', result, checked, skipped: skipped(result) });
    for (const target of targets) {
      if ('local' in target) {
        for (const variant of target.local) {
          if ('refused' in variant) report({ path: variant.path, status: 'variant-invalid', reason: variant.refused });
          else {
            const bar = new ProgressBar(`verifying ${printable(variant.path)}`, output);
            let bytes = 0;
            const onProgress = (p: HashProgress) => {
              bytes = p.bytesDone;
              bar.update(p);
            };
            const result = await verifyVariant(variant.path, { ...anchor, trustedRoot: trustedRoots, bytecode, ...sourceChecks, onProgress }).finally(() => bar.clear());
            report(result, result.status === 'verified' ? { how: 'hashed', files: result.digest.files.size, bytes } : undefined);
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
          const { value: kernel, checked } = await withProgress(`${repoId} ${variant ?? ''}`.trim(), output, (progress) => getKernel(repoId, { ...options, variant, ...anchorFor(repoId), trustedRoot: trustedRoots, ...progress }));
          if (!kernel.verified) report({ path: label(kernel), status: 'signature-missing' });
          else report({ path: label(kernel), status: 'verified', signer: kernel.signer!, metadata: kernel.metadata!, digest: kernel.digest!, ...(kernel.sourceNotCompared ? { sourceNotCompared: kernel.sourceNotCompared } : {}) }, checked(kernel));
        } catch (error) {
          if (!(error instanceof KernelRefusedError) || !error.result || !error.kernel) throw error;
          report({ ...error.result, path: label(error.kernel) });
        }
      }
    }
    const left = output.results.filter((result) => result.kind === 'variant' && result.skipped).length;
    if (left > 0) output.note(`kernelseal verify: left out ${left === 1 ? '1 variant' : `${left} variants`} (${[values['filter-unsigned'] && '--filter-unsigned', values['filter-no-digest'] && '--filter-no-digest'].filter(Boolean).join(', ')})`);
    return output.finish();
  },
};
