import { digestBackend } from './library/backend.js';
import { isCommit, isGitHubRepository, verifyRelease, type ReleaseAsset, serviceIdentityPolicy, type Policy, exactly } from './library/verifying.js';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { OUTPUT_HELP, OUTPUT_OPTIONS, Output } from './output.js';
import { TRUST_ALIASES, TRUST_OPTIONS, trustedRootsFrom } from './trust-options.js';
import { UsageError, parseCommandLine, type Command } from './usage.js';

export const verifyReleaseCommand: Command = {
  name: 'verify-release',
  help: `Usage: kernelseal verify-release TAG --repo OWNER/NAME --bundle FILE [ASSET | sha256:<hex>]... [--all-assets DIR] [options]

Verifies the attestation GitHub signs for an immutable release (in-toto release predicate v0.2,
or v0.1 before it), as gh release verify does, from the attestation file instead of GitHub's
API: signed by GitHub's release service (https://dotcom.releases.github.com, a certificate with
no OIDC issuer) on GitHub's own Sigstore instance, of this repository and tag. Every attestation
in the files must verify, and exactly one must be of this release. It prints every subject of
the statement: the tag's commit and each asset with its digest. Each ASSET (a file or
sha256:<hex>) must be one of those assets, as gh release verify-asset checks.

  -R, --repo OWNER/NAME             the repository whose release it is
  -b, --bundle FILE                 the attestation (a bundle, JSON Lines of bundles, or
                                    GitHub's attestations API answer); repeatable.
                                    gh attestation download --predicate-type \\
                                      https://in-toto.io/attestation/release/v0.2 writes one
      --commit SHA                  the commit the tag points at: the release must say so
      --all-assets DIR              every file of DIR is an asset, and every asset the
                                    attestation lists must be there (a downloaded release)
      --certificate-identity SAN    another trust domain's release service
                                    (https://<domain>.releases.github.com)
      --trusted-root FILE           the roots to use (default: public-good's and GitHub's,
                                    pinned in kernelseal, refreshed through TUF)
      --offline                     no TUF refresh: the roots pinned in kernelseal

${OUTPUT_HELP}

Examples:
  kernelseal verify-release v1.2.0 -R org/tool --bundle release.jsonl
  kernelseal verify-release v1.2.0 -R org/tool --bundle release.jsonl tool-linux-amd64.tar.gz
  kernelseal verify-release v1.2.0 -R org/tool --bundle release.jsonl --all-assets ./downloaded

Exit status: 0 verified, 1 not, 2 usage error or a file named on the command line that
cannot be read.`,

  async run(args) {
    const { values, positionals } = parseCommandLine(
      args,
      {
        repo: { type: 'string', short: 'R' },
        bundle: { type: 'string', short: 'b', multiple: true },
        commit: { type: 'string' },
        'all-assets': { type: 'string' },
        'certificate-identity': TRUST_OPTIONS['certificate-identity'],
        'trusted-root': TRUST_OPTIONS['trusted-root'],
        offline: TRUST_OPTIONS.offline,
        ...OUTPUT_OPTIONS,
      },
      TRUST_ALIASES,
    );
    const [tag, ...assetArgs] = positionals;
    if (tag === undefined) throw new UsageError('expected the release tag (v1.2.3)');
    if (values.repo === undefined || !isGitHubRepository(values.repo)) throw new UsageError('--repo OWNER/NAME is required: the repository whose release it is');
    const bundles = values.bundle ?? [];
    if (bundles.length === 0) throw new UsageError('--bundle is required (the release attestation: gh attestation download writes it)');
    const missing = bundles.find((bundle) => !existsSync(bundle));
    if (missing !== undefined) throw new UsageError(`--bundle ${missing}: no such file`);
    // Either case, as people paste it; the release's commit is compared in lowercase.
    if (values.commit !== undefined && !isCommit(values.commit.toLowerCase())) throw new UsageError('--commit must be a full commit SHA (40 hex digits)');
    let policy: Policy | undefined;
    if (values['certificate-identity'] !== undefined) {
      policy = serviceIdentityPolicy(exactly(values['certificate-identity']));
      if (!policy) throw new UsageError(`--certificate-identity ${values['certificate-identity']}: releases are signed by a GitHub release service, https://<domain>.releases.github.com`);
    }
    const assets = [...(await Promise.all(assetArgs.map(assetOf))), ...(values['all-assets'] === undefined ? [] : await assetsIn(values['all-assets']))];
    const trustedRoot = await trustedRootsFrom(values);
    const result = await verifyRelease({
      repository: values.repo,
      tag,
      bundles,
      trustedRoot,
      ...(policy ? { policy } : {}),
      ...(values.commit ? { commit: values.commit } : {}),
      assets,
      allAssets: values['all-assets'] !== undefined,
    });
    const output = new Output(this.name, values);
    output.add({ kind: 'release', subject: `${values.repo}@${tag}`, result });
    return output.finish();
  },
};

/** An asset operand: sha256:<hex>, or a file hashed with SHA-256. */
async function assetOf(operand: string): Promise<ReleaseAsset> {
  const digest = /^sha256:([0-9a-fA-F]{64})$/.exec(operand);
  if (digest) return { name: operand, sha256: digest[1]!.toLowerCase() };
  const hashed = await digestBackend()
    .hashFile(operand, 'sha256')
    .catch((error: Error) => {
      throw new UsageError(`cannot read the asset ${operand}: ${error.message}`);
    });
  return { name: basename(operand), sha256: Buffer.from(hashed).toString('hex') };
}

/** Every regular file of a downloaded release's folder (not below it: GitHub releases are flat). */
async function assetsIn(dir: string): Promise<ReleaseAsset[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: Error) => {
    throw new UsageError(`--all-assets ${dir}: ${error.message}`);
  });
  return Promise.all(entries.filter((e) => e.isFile()).map((e) => assetOf(join(dir, e.name))));
}
