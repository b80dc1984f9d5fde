import { readFile, stat } from 'node:fs/promises';
import { digestBackend } from '../digest/select-backend.js';
import { BundleError, parseBundle } from '../sigstore/bundle.js';
import type { HashName } from '../sigstore/prehashed.js';
import { SignatureVerificationError, verifyBundle, type Artifact } from '../sigstore/verify-bundle.js';
import { describeSigner } from './render-result.js';
import { TRUST_HELP, TRUST_OPTIONS, trustAnchorFrom, trustedRootFrom } from './trust-options.js';
import { EXIT_FAILURE, EXIT_OK, UsageError, parseCommandLine, type Command } from './usage.js';

/** `sha256:<hex>` (the conformance protocol), also sha384 and sha512. */
const DIGEST = /^(sha256:[0-9a-fA-F]{64}|sha384:[0-9a-fA-F]{96}|sha512:[0-9a-fA-F]{128})$/;

export const verifyBundleCommand: Command = {
  name: 'verify-bundle',
  summary: 'verify a Sigstore bundle over any artifact (a wheel, a model file, ...)',
  help: `Usage: kernelseal verify-bundle --bundle FILE (--certificate-identity ID --certificate-oidc-issuer URL | --key PEM | --policy NAME|FILE) [--trusted-root FILE] [--offline] [--json] FILE_OR_DIGEST

Verifies a Sigstore bundle (v0.1 to v0.3; message signature or DSSE; Rekor v1 or v2 entries;
RFC 3161 timestamps) over an artifact given as a path or as sha256:<hex> (or sha384:, sha512:). For a DSSE bundle,
an in-toto subject must carry the artifact's sha256. Follows the sigstore-conformance client
protocol. There is no default policy: say who is trusted.

  -b, --bundle FILE                 the Sigstore bundle (JSON)

${TRUST_HELP}

      --json                        print the result as JSON

Examples:
  kernelseal verify-bundle --bundle model.onnx.sigstore.json model.onnx \\
      --certificate-identity https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1 \\
      --certificate-oidc-issuer https://token.actions.githubusercontent.com
  kernelseal verify-bundle --bundle a.sigstore.json --key cosign.pub sha256:9f86d0...

Exit status: 0 verified, 1 not verified, 2 usage error.`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      ...TRUST_OPTIONS,
      bundle: { type: 'string', short: 'b' },
      json: { type: 'boolean', default: false },
    });
    if (values.bundle === undefined) throw new UsageError('--bundle is required');
    if (positionals.length !== 1) throw new UsageError('expected exactly one artifact (a path or sha256:<hex>)');
    const subject = positionals[0]!;
    const anchor = await trustAnchorFrom(values);
    const trustedRoot = await trustedRootFrom(values);
    const report = (ok: boolean, detail: Record<string, unknown>, line: string) => {
      process.stdout.write(values.json ? `${JSON.stringify({ artifact: subject, ok, ...detail })}\n` : `${line}\n`);
      return ok ? EXIT_OK : EXIT_FAILURE;
    };
    try {
      const artifact = await readArtifact(subject);
      const bundleText = await readFile(values.bundle).catch((error: Error) => {
        throw new BundleError(`cannot read ${values.bundle}: ${error.message}`);
      });
      const signer = verifyBundle(parseBundle(bundleText), artifact, trustedRoot, anchor);
      return report(true, { signer }, `✅ ${subject}: signature verified\n   ${describeSigner(signer)}`);
    } catch (error) {
      if (!(error instanceof SignatureVerificationError || error instanceof BundleError)) throw error;
      const reason = error instanceof BundleError ? `invalid signature bundle: ${error.message}` : error.message;
      return report(false, { reason }, `❌ ${subject}: ${reason}`);
    }
  },
};

/** Artifacts larger than this are hashed (with the digest engine) rather than read whole. */
const READ_WHOLE_LIMIT = 256 * 1024 * 1024;

/** The artifact operand: `sha256:<hex>` (or sha384:, sha512:) or a path, read or hashed. */
export async function readArtifact(subject: string): Promise<Artifact> {
  if (DIGEST.test(subject)) {
    const [algorithm, hex] = subject.split(':') as [HashName, string];
    return { digest: Buffer.from(hex, 'hex'), algorithm };
  }
  const cannotRead = (error: Error): never => {
    throw new UsageError(`cannot read the artifact ${subject}: ${error.message}`);
  };
  const { size } = await stat(subject).catch(cannotRead);
  if (size > READ_WHOLE_LIMIT) {
    return { digest: await digestBackend().hashFile(subject, 'sha256').catch(cannotRead), algorithm: 'sha256' };
  }
  return { bytes: await readFile(subject).catch(cannotRead) };
}
