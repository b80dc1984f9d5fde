import { existsSync } from 'node:fs';
import { UsageError } from './usage.js';

/**
 * model_signing's command line, spoken by verify-model and sign-model: its flag names (hyphens
 * or underscores) for the same options, and its method word before the model
 * (`model_signing sign key MODEL --private_key K`).
 */
export const MODEL_SIGNING_FLAGS: Readonly<Record<string, string>> = {
  'identity-provider': 'issuer',
  identity_provider: 'issuer',
  'public-key': 'key',
  public_key: 'key',
  'private-key': 'key',
  private_key: 'key',
  'signing-certificate': 'certificate',
  signing_certificate: 'certificate',
  certificate_chain: 'certificate-chain',
  identity_token: 'identity-token',
  'trust-config': 'trusted-root',
  trust_config: 'trusted-root',
  ignore_paths: 'ignore-paths',
  ignore_unsigned_files: 'ignore-unsigned-files',
  allow_symlinks: 'allow-symlinks',
};

export type ModelSigningMethod = 'sigstore' | 'key' | 'certificate';
const METHODS: readonly string[] = ['sigstore', 'key', 'certificate'];

/** The operands with model_signing's method word (if any, and not a path) taken off the front. */
export function splitMethod(positionals: string[]): { method?: ModelSigningMethod; positionals: string[] } {
  const [first, ...rest] = positionals;
  if (positionals.length === 2 && METHODS.includes(first!) && !existsSync(first!)) return { method: first as ModelSigningMethod, positionals: rest };
  return { positionals };
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
