import { readFile } from 'node:fs/promises';
import { type SignerOptions, SigningConfigError, readSigningConfig, signingServices, type SigstoreInstance } from './library/signing.js';
import { parsePemCertificate, parsePemCertificates, pemKeyBlock } from './library/verifying.js';
import { onlySigstoreBundles } from './trust-options.js';
import { UsageError, parseDuration } from './usage.js';

/** The options of the signing commands: how to sign and where the signature is witnessed. */
export const SIGNER_OPTIONS = {
  'identity-token': { type: 'string' },
  key: { type: 'string' },
  certificate: { type: 'string' },
  'certificate-chain': { type: 'string' },
  'signing-config': { type: 'string' },
  sigstore: { type: 'string' },
  'fulcio-url': { type: 'string' },
  'rekor-url': { type: 'string' },
  'rekor-version': { type: 'string' },
  'tsa-url': { type: 'string' },
  'tlog-upload': { type: 'string', aloneIsTrue: true },
  timeout: { type: 'string' },
  'new-bundle-format': { type: 'string', aloneIsTrue: true },
  yes: { type: 'boolean', short: 'y', default: false },
} as const;

export const SIGNER_HELP = `How to sign (default: keyless):
      --identity-token TOKEN        keyless: the OIDC token to exchange for a Fulcio
                                    certificate (default: SIGSTORE_ID_TOKEN, or the CI's
                                    ambient credentials, e.g. GitHub Actions with
                                    "permissions: id-token: write")
      --key PEM                     a managed private key (ECDSA P-256 or P-384);
                                    the bundle carries a key hint (KERNELSEAL_KEY_PASSWORD
                                    for an encrypted key)
      --certificate PEM             with --key: sign with a certificate of your own PKI
      --certificate-chain PEM       its issuing chain, checked before signing

Where (default: Sigstore's public-good instance, its services from the signing config
Sigstore's TUF repository publishes, else the copy pinned in kernelseal):
      --sigstore public-good|github the instance: GitHub's own signs with its Fulcio and TSA
                                    and logs nothing publicly (private repositories)
      --signing-config FILE         a Sigstore signing_config.json (v0.2) naming Fulcio,
                                    Rekor and TSA
      --fulcio-url URL              Fulcio (keyless)
      --rekor-url URL               Rekor
      --rekor-version 1|2           Rekor API version (default 1; 2 is opt-in, and takes
                                    the signing config's v2 log and its TSA)
      --tsa-url URL                 an RFC 3161 timestamp authority
      --tlog-upload=false           with --key: log nothing in Rekor and send nothing
                                    anywhere (air-gapped; a TSA only if --tsa-url names
                                    one); verifiers need --insecure-ignore-tlog.
                                    --tlog-upload alone, as in cosign, is true (the default)
      --timeout DURATION            the longest wait on each service (30s; 90s, 2m): past
                                    it, signing fails naming the service, nothing written
      --new-bundle-format, -y/--yes accepted, as cosign spells them: kernelseal writes only
                                    Sigstore bundles, and never asks before uploading`;

type SignerValues = { [K in Exclude<keyof typeof SIGNER_OPTIONS, 'yes'>]?: string } & { yes?: boolean };

/**
 * How to sign, from the command line. Inconsistent choices are usage errors. Services come from
 * flags, else --signing-config, else the signing config of the instance (`--sigstore`, or
 * `instance` as the command chose it: attest picks GitHub's for a private repository).
 */
export async function signerFrom(values: SignerValues, instance: SigstoreInstance = 'public-good'): Promise<SignerOptions> {
  onlySigstoreBundles(values['new-bundle-format']);
  const rekorVersion = values['rekor-version'];
  if (rekorVersion !== undefined && rekorVersion !== '1' && rekorVersion !== '2') throw new UsageError('--rekor-version must be 1 or 2');
  const version = rekorVersion === undefined ? undefined : (Number(rekorVersion) as 1 | 2);
  if (values.sigstore !== undefined && values.sigstore !== 'public-good' && values.sigstore !== 'github') throw new UsageError('--sigstore must be public-good or github');
  const chosen = (values.sigstore as SigstoreInstance | undefined) ?? instance;
  const keyless = values.key === undefined;
  // A config is read only for what the flags leave open (no refresh when every service is named).
  // (A managed key's signer reads the pinned config when it logs: sign-model never logs one.)
  const open = keyless && (values['fulcio-url'] === undefined || (values['rekor-url'] === undefined && values['tlog-upload'] !== 'false'));
  const services = values['signing-config']
    ? await readSigningConfig(values['signing-config'], version).catch((error) => usage(error, '--signing-config'))
    : open || (keyless && version === 2 && values['tsa-url'] === undefined)
      ? await signingServices(chosen, version, { onWarning: (message) => process.stderr.write(`kernelseal: warning: ${message}\n`) }).catch((error) => usage(error, `the ${chosen} signing config:`))
      : undefined;
  const tlogUpload = values['tlog-upload'];
  if (tlogUpload !== undefined && tlogUpload !== 'true' && tlogUpload !== 'false') throw new UsageError('--tlog-upload must be true or false');
  if (tlogUpload === 'false' && values.key === undefined) {
    throw new UsageError('--tlog-upload=false needs --key (or --key with --certificate): a keyless signature is worth nothing without its transparency log entry');
  }
  const witness = {
    ...(tlogUpload === 'false' ? { tlogUpload: false } : {}),
    ...(tlogUpload !== 'false' && values['rekor-url'] === undefined && services?.tlogUpload === false ? { tlogUpload: false } : {}),
    rekorURL: values['rekor-url'] ?? services?.rekorURL,
    rekorVersion: version ?? services?.rekorVersion,
    tsaURL: values['tsa-url'] ?? services?.tsaURL,
    ...(values.timeout === undefined ? {} : { timeoutMs: parseDuration(values.timeout, '--timeout') }),
  };
  if (values.certificate !== undefined || values['certificate-chain'] !== undefined) {
    if (values.certificate === undefined) throw new UsageError('--certificate-chain needs --certificate');
    if (values.key === undefined) throw new UsageError('--certificate needs its private key: --key');
  }
  if (values.key !== undefined) {
    if (values['identity-token'] !== undefined || values['fulcio-url'] !== undefined) {
      throw new UsageError('--key signs without Fulcio: drop --identity-token and --fulcio-url');
    }
    // Files that hold no key or certificate are refused here, where their names are known; what
    // the key is, and whether the certificate holds, is checked when signing.
    const privateKey = await readText(values.key, '--key');
    pemKeyBlock(privateKey, 'PRIVATE KEY', (reason) => { throw new UsageError(`--key ${values.key}: ${reason}`); });
    const passphrase = process.env.KERNELSEAL_KEY_PASSWORD;
    if (values.certificate === undefined) return { method: 'key', privateKey, passphrase, ...witness };
    const certificate = await readText(values.certificate, '--certificate');
    parsePemCertificate(certificate, (reason) => { throw new UsageError(`--certificate ${values.certificate}: ${reason}`); });
    const chainPath = values['certificate-chain'];
    const chain = chainPath === undefined ? undefined : await readText(chainPath, '--certificate-chain');
    if (chain !== undefined) parsePemCertificates(chain, (reason) => { throw new UsageError(`--certificate-chain ${chainPath}: ${reason}`); });
    return { method: 'certificate', privateKey, passphrase, certificate, chain, ...witness };
  }
  return {
    method: 'keyless',
    identityToken: values['identity-token'],
    fulcioURL: values['fulcio-url'] ?? services?.fulcioURL,
    ...witness,
  };
}

async function readText(path: string, flag: string): Promise<string> {
  return readFile(path, 'utf8').catch((error: Error) => {
    throw new UsageError(`${flag} ${path}: cannot read: ${error.message}`);
  });
}

/** A signing config that cannot be used is a usage error, named by where it came from (its flag). */
function usage(error: unknown, source: string): never {
  throw error instanceof SigningConfigError ? new UsageError(`${source} ${error.message}`) : error;
}
