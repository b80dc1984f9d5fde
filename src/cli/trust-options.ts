import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { readTrustFile, type TrustFile, EXTENSION_NAMES, extensionOid, NAMED_POLICIES, allOf, extensionPolicy, identityPolicy, requirePinned, serviceIdentityPolicy, type Policy, exactly, matching, type StringMatch, PolicyError, TrustedRootError, defaultTrustedRoots, readTrustedRoots, type TrustedRoot, checkTrustAnchor, mayWaiveTlog, type TrustAnchor, offlineFromEnv } from './library/verifying.js';
import { fromGoRegexp } from './go-regexp.js';
import { UsageError } from './usage.js';

/** The flags that name a signing certificate's identity, issuer and extensions, as cosign spells them. */
export const IDENTITY_OPTIONS = {
  'certificate-identity': { type: 'string' },
  'certificate-identity-regexp': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' },
  'certificate-oidc-issuer-regexp': { type: 'string' },
  'certificate-extension': { type: 'string', multiple: true },
} as const;

/** The options every verifying command shares: who is trusted, and the trusted root. */
export const TRUST_OPTIONS = {
  policy: { type: 'string' },
  ...IDENTITY_OPTIONS,
  key: { type: 'string' },
  'certificate-chain': { type: 'string' },
  'insecure-ignore-tlog': { type: 'boolean', default: false },
  'trusted-root': { type: 'string' },
  offline: { type: 'boolean', default: false },
  'new-bundle-format': { type: 'string', aloneIsTrue: true },
} as const;

/**
 * The same options as gh attestation verify (and older cosign) spell them: either spelling
 * may be given, and messages name the one typed.
 */
export const TRUST_ALIASES: Readonly<Record<string, string>> = {
  'cert-identity': 'certificate-identity',
  'cert-identity-regex': 'certificate-identity-regexp',
  'cert-oidc-issuer': 'certificate-oidc-issuer',
  'custom-trusted-root': 'trusted-root',
};

export const TRUST_HELP = `Who is trusted (one of):
      --policy NAME|FILE            a built-in policy (kernels-community) or a JSON
                                    policy file (see README: Policies)
      --certificate-identity ID     the signer's identity, exactly (e.g. a workflow URI)
      --certificate-identity-regexp RE
                                    ... or a regular expression, always anchored (^...$);
                                    Go's (?i) and (?s) at its start work as in cosign
      --certificate-oidc-issuer URL the OIDC issuer, exactly (needed with an identity)
      --certificate-oidc-issuer-regexp RE
                                    ... or an anchored regular expression
      --certificate-extension NAME=VALUE
                                    also require a Fulcio extension, exactly (repeatable),
                                    by name or OID: deploymentEnvironment=production,
                                    sourceRepositoryRef=refs/heads/main, buildTrigger=push,
                                    sourceRepositoryVisibility=private, ...
      --key PEM                     a public key file, for bundles signed with a managed key
      --certificate-chain PEM       the CA chain of your own PKI (issuer first, root last):
                                    certificates it issued are trusted, optionally only for
                                    --certificate-identity[-regexp]
      --insecure-ignore-tlog        with --key or --certificate-chain only: accept a
                                    signature with no transparency log entry (signed
                                    with --tlog-upload=false); one it has is still checked

Trusted root:
      --trusted-root FILE           a trusted_root.json (or client trust config), or JSON
                                    Lines of them (gh attestation trusted-root), to use
                                    instead of Sigstore's public-good and GitHub's own
                                    instances; each signature is checked against the root
                                    whose CA issued its certificate
      --offline                     never touch the network: use the roots pinned in
                                    kernelseal instead of refreshing them via TUF
                                    (also: KERNELSEAL_OFFLINE or HF_HUB_OFFLINE set to
                                    1, true, yes or on)
      --new-bundle-format           accepted, as cosign spells it: the Sigstore bundle is the
                                    only format kernelseal reads
gh's spellings work too: --cert-identity, --cert-identity-regex, --cert-oidc-issuer,
--custom-trusted-root.`;

/** The values of IDENTITY_OPTIONS. */
export type IdentityValues = {
  'certificate-identity'?: string;
  'certificate-identity-regexp'?: string;
  'certificate-oidc-issuer'?: string;
  'certificate-oidc-issuer-regexp'?: string;
  'certificate-extension'?: string[];
};

type TrustValues = IdentityValues & {
  policy?: string;
  key?: string;
  'certificate-chain'?: string;
  'insecure-ignore-tlog'?: boolean;
  'trusted-root'?: string;
  offline?: boolean;
  'new-bundle-format'?: string;
};

/**
 * Whether the command line says who is trusted; when it does not, the command's default policy
 * applies, and with it what only the default does (getKernel reads the Hub's
 * trustedKernelPublisher flag: src/kernels/hub/publisher-flag.ts).
 */
export function trustGiven(values: TrustValues): boolean {
  const named = (value: unknown) => (Array.isArray(value) ? value.length > 0 : value !== undefined);
  return (['policy', 'key', 'certificate-chain', ...Object.keys(IDENTITY_OPTIONS)] as (keyof TrustValues)[]).some((flag) => named(values[flag]));
}

/**
 * Who is trusted, from the command line. Identity flags need an issuer flag and the other way
 * round; --policy, identity flags and --key exclude each other. Without any, `defaultPolicy`
 * (verify: kernels-community); with none and no default, a usage error: never "anyone".
 * --insecure-ignore-tlog (or a trust file's "insecureIgnoreTlog") goes with a key or a private
 * CA only, as src/sigstore/trust-anchor.ts rules.
 */
export async function trustAnchorFrom(values: TrustValues, defaultPolicy?: string): Promise<TrustAnchor> {
  onlySigstoreBundles(values['new-bundle-format']);
  const extensions = extensionPoliciesFrom(values);
  let anchor = await anchorFrom(values, defaultPolicy);
  if (extensions.length > 0) {
    if (!('policy' in anchor)) throw new UsageError('--certificate-extension tests a Fulcio certificate: it goes with a policy or an identity, not --key or --certificate-chain');
    anchor = { ...anchor, policy: allOf([anchor.policy, ...extensions]) };
  }
  // Whatever the flags made: the issuer pinned, and on a shared issuer the signer (policy.ts).
  if ('policy' in anchor) {
    try {
      requirePinned(anchor.policy);
    } catch (error) {
      asUsageError(error);
    }
  }
  const insecureIgnoreTlog = values['insecure-ignore-tlog'] === true || anchor.insecureIgnoreTlog === true;
  if (insecureIgnoreTlog && !mayWaiveTlog(checkTrustAnchor(anchor))) {
    throw new UsageError('--insecure-ignore-tlog works only with --key or --certificate-chain: a policy or an identity trusts Fulcio (public-good) certificates, which are worth nothing without their transparency log entry');
  }
  return { ...anchor, insecureIgnoreTlog };
}

async function anchorFrom(values: TrustValues, defaultPolicy: string | undefined): Promise<TrustAnchor> {
  const identity = matchFromFlags(values, 'certificate-identity');
  const issuer = matchFromFlags(values, 'certificate-oidc-issuer');
  if (values['certificate-chain'] !== undefined) {
    if (values.policy !== undefined || values.key !== undefined || issuer !== undefined) {
      throw new UsageError('--certificate-chain trusts your own CA: it excludes --policy, --key and the OIDC issuer flags');
    }
    const pem = await readFile(values['certificate-chain'], 'utf8').catch((error: Error) => {
      throw new UsageError(`--certificate-chain ${values['certificate-chain']}: cannot read: ${error.message}`);
    });
    return { certificateChain: pem, identity };
  }
  const chosen = [values.policy !== undefined, identity !== undefined || issuer !== undefined, values.key !== undefined].filter(Boolean);
  if (chosen.length > 1) throw new UsageError('--policy, --certificate-identity/--certificate-oidc-issuer and --key exclude each other');
  if (values.key !== undefined) {
    const pem = await readFile(values.key, 'utf8').catch((error: Error) => {
      throw new UsageError(`--key ${values.key}: cannot read: ${error.message}`);
    });
    return { key: pem };
  }
  if (identity || issuer) {
    if (!identity) throw new UsageError('--certificate-oidc-issuer needs --certificate-identity (or --certificate-identity-regexp)');
    // A GitHub service's SAN (release attestations) stands alone: its certificates name no issuer.
    const service = issuer ? undefined : serviceIdentityPolicy(identity);
    if (service) return { policy: service };
    if (!issuer) throw new UsageError('--certificate-identity needs --certificate-oidc-issuer (or --certificate-oidc-issuer-regexp)');
    return { policy: identityPolicy(identity, issuer) };
  }
  const name = values.policy ?? defaultPolicy;
  if (name === undefined) throw new UsageError('say who is trusted: --certificate-identity and --certificate-oidc-issuer, --policy, or --key');
  return policyNamed(name);
}

/**
 * --certificate-extension NAME=VALUE: each a Fulcio extension the certificate must carry with
 * exactly that value, by name (certificate-identity.ts) or OID. Never a policy on its own: it
 * adds to one that pins the issuer.
 */
export function extensionPoliciesFrom(values: { 'certificate-extension'?: string[] }): Policy[] {
  return (values['certificate-extension'] ?? []).map((flag) => {
    const at = flag.indexOf('=');
    const oid = at > 0 ? extensionOid(flag.slice(0, at)) : undefined;
    if (oid === undefined) {
      throw new UsageError(`--certificate-extension ${flag}: expected NAME=VALUE, NAME a Fulcio extension's OID or name (${EXTENSION_NAMES.join(', ')})`);
    }
    return extensionPolicy(oid, exactly(flag.slice(at + 1)));
  });
}

/** A built-in policy, or a trust file: a policy, or a key or private CA (policy-file.ts). */
async function policyNamed(name: string): Promise<TrustFile> {
  const named = NAMED_POLICIES.get(name);
  if (named) return { policy: named };
  if (!existsSync(name)) {
    throw new UsageError(`--policy ${name}: neither a built-in policy (${[...NAMED_POLICIES.keys()].join(', ')}) nor a file`);
  }
  return readTrustFile(name).catch(asUsageError);
}

/** A policy or trusted root the user named that cannot be used is a usage error (exit 2), named by its flag. */
function asUsageError(error: unknown, flag?: string): never {
  if (!(error instanceof PolicyError || error instanceof TrustedRootError)) throw error;
  throw new UsageError(flag === undefined ? error.message : `${flag} ${error.message}`);
}

/**
 * cosign's --new-bundle-format (alone, or =true) names the only format kernelseal reads and
 * writes; =false asks for cosign's legacy bundle, which it does not.
 */
export function onlySigstoreBundles(value: string | undefined): void {
  if (value === undefined || value === 'true') return;
  if (value === 'false') throw new UsageError("--new-bundle-format=false asks for cosign's legacy bundle format: kernelseal reads and writes only Sigstore bundles (v0.1 to v0.3)");
  throw new UsageError(`--new-bundle-format must be true or false (got ${JSON.stringify(value)})`);
}

/**
 * --certificate-identity or --certificate-oidc-issuer: exactly, or with -regexp an anchored
 * pattern (Go's inline flags as cosign takes them, go-regexp.ts); never both spellings.
 * Undefined when neither is given.
 */
export function matchFromFlags(values: IdentityValues, exact: 'certificate-identity' | 'certificate-oidc-issuer'): StringMatch | undefined {
  const regexp = `${exact}-regexp` as const;
  if (values[exact] !== undefined && values[regexp] !== undefined) throw new UsageError(`--${exact} and --${regexp} exclude each other`);
  if (values[exact] !== undefined) return exactly(values[exact]!);
  if (values[regexp] !== undefined) {
    try {
      const { source, flags } = fromGoRegexp(values[regexp]!, `--${regexp}`);
      return matching(source, flags);
    } catch (error) {
      return asUsageError(error);
    }
  }
  return undefined;
}

/**
 * The trusted roots of a verifying command: those --trusted-root names (one root, or JSON Lines
 * of them as `gh attestation trusted-root` writes), else public-good's and GitHub's own, each
 * refreshed through its TUF repository unless offline (warnings to stderr). A signature is
 * checked against the one whose CA issued its certificate.
 */
export async function trustedRootsFrom(values: TrustValues): Promise<TrustedRoot[]> {
  if (values['trusted-root'] !== undefined) return readTrustedRoots(values['trusted-root']).catch((error) => asUsageError(error, '--trusted-root'));
  return defaultTrustedRoots({
    offline: values.offline || offlineFromEnv(),
    onWarning: (message) => process.stderr.write(`kernelseal: warning: ${message}\n`),
  });
}

