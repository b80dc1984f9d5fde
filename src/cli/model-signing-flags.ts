import { existsSync } from 'node:fs';
import { UsageError } from './usage.js';

/**
 * model_signing's command line, spoken by verify-model and sign-model: its flag names (hyphens
 * or underscores) for the same options (aliases for src/cli/usage.ts parseCommandLine), and its
 * method word before the model (`model_signing sign key MODEL --private_key K`).
 */
export const MODEL_SIGNING_FLAGS: Readonly<Record<string, string>> = {
  'public-key': 'key',
  public_key: 'key',
  'private-key': 'key',
  private_key: 'key',
  'signing-certificate': 'certificate',
  signing_certificate: 'certificate',
  certificate_chain: 'certificate-chain',
  identity_token: 'identity-token',
  ignore_paths: 'ignore-paths',
  ignore_unsigned_files: 'ignore-unsigned-files',
  allow_symlinks: 'allow-symlinks',
  use_ambient_credentials: 'use-ambient-credentials',
};

/**
 * verify-model: the signer's identity and OIDC issuer as model_signing names them, and a client
 * trust config's trusted root, which --trusted-root reads.
 */
export const MODEL_SIGNING_VERIFY_FLAGS: Readonly<Record<string, string>> = {
  ...MODEL_SIGNING_FLAGS,
  identity: 'certificate-identity',
  issuer: 'certificate-oidc-issuer',
  'identity-provider': 'certificate-oidc-issuer',
  identity_provider: 'certificate-oidc-issuer',
  'trust-config': 'trusted-root',
  trust_config: 'trusted-root',
};

/** sign-model: a client trust config's signing config is what --signing-config reads. */
export const MODEL_SIGNING_SIGN_FLAGS: Readonly<Record<string, string>> = { ...MODEL_SIGNING_FLAGS, 'trust-config': 'signing-config', trust_config: 'signing-config' };

export type ModelSigningMethod = 'sigstore' | 'key' | 'certificate';
const METHODS: readonly string[] = ['sigstore', 'key', 'certificate'];
/** model_signing's other methods: hardware tokens and post-quantum keys, which kernelseal does not speak. */
const UNSUPPORTED_METHODS: readonly string[] = ['pkcs11-key', 'pkcs11-certificate', 'ml-dsa'];

/**
 * The operands with model_signing's method word (if any, and not a path) taken off the front.
 * A method kernelseal does not support is a usage error that says so.
 */
export function splitMethod(positionals: string[]): { method?: ModelSigningMethod; positionals: string[] } {
  const [first, ...rest] = positionals;
  if (positionals.length === 2 && UNSUPPORTED_METHODS.includes(first!) && !existsSync(first!)) {
    throw new UsageError(`model_signing's method '${first}' is not supported by kernelseal (supported: ${METHODS.join(', ')})`);
  }
  if (positionals.length === 2 && METHODS.includes(first!) && !existsSync(first!)) return { method: first as ModelSigningMethod, positionals: rest };
  return { positionals };
}

/**
 * `kernelseal verify sigstore --identity ...` (or `sign key ...`) is model_signing's command
 * line pasted onto the kernel commands: a usage error pointing at verify-model (sign-model),
 * which take it as it is.
 */
export function refuseModelSigningMethod(args: readonly string[], command: 'verify' | 'sign'): void {
  const first = args[0];
  if (first === undefined || ![...METHODS, ...UNSUPPORTED_METHODS].includes(first) || existsSync(first)) return;
  throw new UsageError(
    `'${command} ${first} ...' is model_signing's command line: for a model, run 'kernelseal ${command}-model ${first} ...' with the same options ` +
      `('kernelseal ${command}' is for kernel variants)`,
  );
}

/** A method word must agree with the flags given: `key` with a key, `certificate` with a certificate, `sigstore` with neither. */
export function checkMethod(method: ModelSigningMethod | undefined, values: { key?: unknown; certificate?: unknown; 'certificate-chain'?: unknown }, verifying: boolean): void {
  if (method === undefined) return;
  const key = values.key !== undefined;
  const certificate = verifying ? values['certificate-chain'] !== undefined : values.certificate !== undefined;
  const fits = method === 'sigstore' ? !key && !certificate : method === 'key' ? key && !certificate : certificate;
  if (!fits) {
    const needs = { sigstore: 'no key or certificate', key: verifying ? '--key (--public-key)' : '--key (--private-key)', certificate: verifying ? '--certificate-chain' : '--certificate (--signing-certificate) and --key' }[method];
    throw new UsageError(`the method '${method}' needs ${needs}`);
  }
}
