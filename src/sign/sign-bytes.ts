import { toDSSEBundle, toMessageSignatureBundle, type Bundle } from '@sigstore/bundle';
import { FulcioSigner, RekorWitness, TSAWitness, type Signer as SigstoreSigner, type Witness } from '@sigstore/sign';
import { dsse, type X509Certificate } from '@sigstore/core';
import { createHash, createPrivateKey, createPublicKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { CertificateChainError, verifyCertificatePath } from '../sigstore/certificate-chain.js';
import { bundleSigner, keyId, type Signer } from '../sigstore/verify-bundle.js';
import { derToPem, parsePemCertificate, parsePemCertificates, pemKeyBlock } from '../sigstore/pem.js';
import { resolveIdentityToken } from './identity-token.js';
import { pinnedSigningServices, type WitnessOptions } from './signing-config.js';

export type { WitnessOptions } from './signing-config.js';


/** How to sign: keyless through Fulcio, with a managed key, or with a certificate of your own PKI. */
export type SignerOptions = WitnessOptions &
  (
    | { method: 'keyless'; identityToken?: string; fulcioURL?: string }
    | { method: 'key'; privateKey: string | KeyObject; passphrase?: string }
    | {
        method: 'certificate';
        privateKey: string | KeyObject;
        passphrase?: string;
        /** The signing certificate (PEM), issued by your own CA. */
        certificate: string;
        /** Its issuing chain (PEM, issuer first), checked before signing; verifiers hold it in their trust. */
        chain?: string;
      }
  );

/**
 * Why signing failed: a service (Fulcio, Rekor, a TSA) refused or failed, or did not answer in
 * time; the key or certificate cannot sign; or the input cannot be signed as it is.
 */
export type SigningErrorCode = 'SERVICE_FAILED' | 'TIMEOUT' | 'KEY_INVALID' | 'CERTIFICATE_INVALID' | 'INPUT_INVALID';

/** Signing failed: the message says which service or input, and why. Nothing was written. */
export class SigningError extends Error {
  override readonly name = 'SigningError';
  constructor(
    readonly code: SigningErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Signs `data` and returns a v0.3 Sigstore bundle holding a message signature (a hashedrekord
 * log entry), the kind `cosign sign-blob --bundle` writes, so that cosign, sigstore-python and
 * the reference kernels verifier accept it.
 */
export async function signBytes(data: Uint8Array, given: SignerOptions): Promise<Bundle> {
  const options = withDefaultServices(given);
  checkTlogUpload(options);
  const artifact = Buffer.from(data);
  const signature = await sign(artifact, options);
  const bundle = toMessageSignatureBundle({
    digest: createHash('sha256').update(artifact).digest(),
    ...verificationMaterial(signature),
  });
  return witness(bundle, signature, options);
}

/**
 * Signs a DSSE envelope keylessly (the signature covers the envelope's pre-authentication
 * encoding) and returns a v0.3 bundle with a `dsse` log entry: the kind of bundle
 * sigstore-python's sign_dsse writes, and model signatures are.
 */
export async function signEnvelope(payload: Uint8Array, payloadType: string, given: SignerOptions & { method: 'keyless' }): Promise<Bundle> {
  const options = withDefaultServices(given);
  checkTlogUpload(options);
  const artifact = Buffer.from(payload);
  const signature = await sign(dsse.preAuthEncoding(payloadType, artifact), options);
  const bundle = toDSSEBundle({ artifact, artifactType: payloadType, ...verificationMaterial(signature) });
  return witness(bundle, signature, options);
}

/**
 * Keyless signing needs the log: its Fulcio certificate lives ten minutes, and only the log entry
 * proves the signature was made inside them (docs/design.md section 1). A caller's mistake, so a TypeError.
 */
export function checkTlogUpload(options: SignerOptions): void {
  // An instance without a log (GitHub's) bounds the certificate's ten minutes with its TSA.
  if (options.tlogUpload === false && options.method === 'keyless' && options.tsaURL === undefined) {
    throw new TypeError('tlogUpload: false needs a key or a certificate of your own PKI: a keyless (Fulcio) signature is worth nothing without its transparency log entry (or, on an instance without a log, the timestamp of its TSA: tsaURL)');
  }
}

/**
 * Where a keyless signature goes when the caller names no service: the public-good instance's
 * signing config as pinned in the package (signing-config.ts), never a URL written in code.
 */
function withDefaultServices<T extends SignerOptions>(options: T): T {
  const needsFulcio = options.method === 'keyless' && options.fulcioURL === undefined;
  const needsRekor = options.tlogUpload !== false && options.rekorURL === undefined;
  if (!needsFulcio && !needsRekor) return options;
  const { fulcioURL, ...witnesses } = pinnedSigningServices('public-good', options.rekorVersion);
  const services = options.method === 'keyless' ? { fulcioURL, ...witnesses } : witnesses;
  return { ...services, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as T;
}

type Signature = Awaited<ReturnType<SigstoreSigner['sign']>>;

async function sign(data: Buffer, options: SignerOptions): Promise<Signature> {
  const signer = await createSigner(options);
  try {
    return await signer.sign(data);
  } catch (error) {
    if (error instanceof SigningError) throw error; // a deadline, already naming the service
    throw new SigningError('SERVICE_FAILED', describe('signing failed', error, options.method === 'keyless' ? options.fulcioURL : undefined), { cause: error });
  }
}

function verificationMaterial(signature: Signature) {
  return {
    signature: signature.signature,
    certificate: signature.key.$case === 'x509Certificate' ? parsePemCertificate(signature.key.certificate, signingFailure('the signing certificate', 'SERVICE_FAILED')).root.toDER() : undefined,
    keyHint: signature.key.$case === 'publicKey' ? signature.key.hint : undefined,
    certificateChain: false, // v0.3: the leaf only; intermediates and roots come from the trusted root
  };
}

/** Has the signature witnessed (log entry, timestamp) and records what the witnesses return. */
async function witness<B extends Bundle>(bundle: B, signature: Signature, options: SignerOptions): Promise<B> {
  const witnesses = createWitnesses(options);
  const publicKey = signature.key.$case === 'x509Certificate' ? signature.key.certificate : signature.key.publicKey;
  const material = await Promise.all(
    witnesses.map(({ witness, url, service }) =>
      withDeadline(witness.testify(bundle.content, publicKey), options.timeoutMs, `${service} (${url})`).catch((error: unknown) => {
        if (error instanceof SigningError) throw error;
        throw new SigningError('SERVICE_FAILED', describe('witnessing the signature failed', error, url), { cause: error });
      }),
    ),
  );
  bundle.verificationMaterial.tlogEntries = material.flatMap((m) => m.tlogEntries ?? []);
  bundle.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: material.flatMap((m) => m.rfc3161Timestamps ?? []) };
  return bundle;
}

async function createSigner(options: SignerOptions): Promise<SigstoreSigner> {
  const fetch = { timeout: options.timeoutMs ?? 30_000, retry: false as const };
  switch (options.method) {
    case 'keyless': {
      const token = await resolveIdentityToken(options.identityToken);
      const fulcioURL = options.fulcioURL;
      if (fulcioURL === undefined) throw new TypeError('keyless signing needs a Fulcio URL (fulcioURL)');
      const fulcio = new FulcioSigner({ identityProvider: { getToken: async () => token }, fulcioBaseURL: fulcioURL, ...fetch });
      return { sign: (data) => withDeadline(fulcio.sign(data), options.timeoutMs, `Fulcio (${fulcioURL})`) };
    }
    case 'key':
      return keySigner(parsePrivateKey(options.privateKey, options.passphrase), undefined);
    case 'certificate': {
      const key = parsePrivateKey(options.privateKey, options.passphrase);
      const { leaf } = readSigningCertificate(key, options.certificate, options.chain);
      return keySigner(key, derToPem(leaf.root.toDER()));
    }
  }
}

function createWitnesses(options: SignerOptions): Array<{ witness: Witness; url: string; service: string }> {
  const fetch = { timeout: options.timeoutMs ?? 30_000, retry: false as const };
  const witnesses: Array<{ witness: Witness; url: string; service: string }> = [];
  const rekorURL = options.rekorURL;
  const rekorVersion = options.rekorVersion ?? 1;
  const logged = options.tlogUpload !== false;
  if (logged) {
    if (rekorURL === undefined) throw new TypeError('logging the signature needs a Rekor URL (rekorURL), or tlogUpload: false');
    witnesses.push({
      witness: new RekorWitness({ rekorBaseURL: rekorURL, majorApiVersion: rekorVersion, fetchOnConflict: true, ...fetch }),
      url: rekorURL,
      service: 'Rekor',
    });
  }
  // Rekor v2 entries carry no signed time: a TSA must give one.
  const tsaURL = options.tsaURL;
  if (logged && rekorVersion === 2 && tsaURL === undefined) throw new TypeError('Rekor v2 needs a timestamp authority (tsaURL): its entries carry no signed time');
  if (tsaURL) witnesses.push({ witness: new TSAWitness({ tsaBaseURL: tsaURL, ...fetch }), url: tsaURL, service: 'the timestamp authority' });
  return witnesses;
}

/**
 * An overall deadline on one service: sigstore-js's own timeout starts only once a connection is
 * set up, so a server that accepts and never answers would hold signing forever. Past the
 * deadline the call fails naming the service (the request is abandoned; bin/kernelseal.js does
 * not wait for it).
 */
function withDeadline<T>(work: Promise<T>, ms: number | undefined, service: string): Promise<T> {
  const limit = ms ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SigningError('TIMEOUT', `${service} did not answer within ${limit / 1000} s (timed out)`)), limit);
    timer.unref();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/**
 * A signer holding a managed key (or the key of a certificate): ECDSA over SHA-256, the digest
 * a message-signature bundle records.
 */
function keySigner(key: KeyObject, certificate: string | undefined): SigstoreSigner {
  const publicKey = createPublicKey(key);
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  return {
    sign: async (data) => ({
      signature: cryptoSign('sha256', data, key),
      key: certificate
        ? { $case: 'x509Certificate', certificate }
        : { $case: 'publicKey', publicKey: pem, hint: createHash('sha256').update(spki).digest('base64') },
    }),
  };
}

/**
 * Who signed a bundle just signed with `options`: what the bundle says (bundleSigner), and for
 * a managed key its ID, which a bundle carries only as an unverified hint.
 */
export function signedBy(bundle: Bundle, options: SignerOptions): Signer {
  const signer = bundleSigner(bundle);
  return options.method === 'key' ? { ...signer, keyId: keyId(parsePrivateKey(options.privateKey, options.passphrase)) } : signer;
}

/** Key kinds (`<type>:<curve>`) a signer takes, with their names for people. */
export type KeyKinds = ReadonlyMap<string, string>;

/**
 * Keys that sign a message-signature bundle. Not Ed25519: the bundle's hashedrekord entry holds
 * the message's SHA-256 and the signature must verify over what it holds, so only a pre-hashed
 * signature fits, and sigstore-js's verifier (@sigstore/verify's MessageSignatureContent, which
 * src/sigstore/verify-bundle.ts runs) checks every message signature with the digest
 * algorithm, which a pure Ed25519 signature never passes. Such a bundle would never verify.
 */
const SUPPORTED_KEYS: KeyKinds = new Map([
  ['ec:prime256v1', 'ECDSA P-256'],
  ['ec:secp384r1', 'ECDSA P-384'],
]);

/**
 * A PEM private key of a kind the caller signs with (default: ECDSA P-256 or P-384). The file
 * may hold other text and blocks around the key. An encrypted key needs its `passphrase`.
 */
export function parsePrivateKey(key: string | KeyObject, passphrase?: string, supported: KeyKinds = SUPPORTED_KEYS): KeyObject {
  let parsed: KeyObject;
  try {
    parsed = typeof key === 'string' ? createPrivateKey({ key: pemKeyBlock(key, 'PRIVATE KEY', signingFailure('the key', 'KEY_INVALID')), format: 'pem', passphrase }) : key;
  } catch (error) {
    if (error instanceof SigningError) throw error;
    const encrypted = typeof key === 'string' && /ENCRYPTED/.test(key);
    throw new SigningError(
      'KEY_INVALID',
      encrypted && !passphrase
        ? 'the key is encrypted: give its passphrase (KERNELSEAL_KEY_PASSWORD)'
        : `the key is not a PEM private key: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (parsed.type !== 'private') throw new SigningError('KEY_INVALID', 'the key is not a private key');
  const kind = `${parsed.asymmetricKeyType}:${parsed.asymmetricKeyDetails?.namedCurve ?? ''}`;
  if (!supported.has(kind)) {
    throw new SigningError('KEY_INVALID', `unsupported key type ${kind.replace(/:$/, '')}: use ${[...supported.values()].join(', ')}`);
  }
  return parsed;
}

/** The signing certificate of a private PKI, and the chain (issuer first) it was checked against. */
export interface SigningCertificate {
  leaf: X509Certificate;
  chain: X509Certificate[];
}

/**
 * Reads and checks, before anything is signed, the signing certificate (PEM) of `key`: it
 * belongs to the key, is valid now and, when a `chain` is given (issuer first, root last, one
 * PEM file), chains up through it as a verifier will check it (certificate-chain.ts).
 */
export function readSigningCertificate(key: KeyObject, certificate: string, chain: string | undefined): SigningCertificate {
  const leaf = parsePemCertificate(certificate, signingFailure('the certificate', 'CERTIFICATE_INVALID'));
  const certKey = createPublicKey({ key: Buffer.from(leaf.publicKey), format: 'der', type: 'spki' });
  if (!certKey.equals(createPublicKey(key))) throw new SigningError('CERTIFICATE_INVALID', 'the private key does not belong to the certificate');
  if (!leaf.validForDate(new Date())) throw new SigningError('CERTIFICATE_INVALID', 'the certificate is not valid now (expired or not yet valid)');
  if (chain === undefined) return { leaf, chain: [] };
  const issuers = parsePemCertificates(chain, signingFailure('the certificate chain', 'CERTIFICATE_INVALID'));
  try {
    verifyCertificatePath(leaf, issuers, [issuers.at(-1)!], new Date());
  } catch (error) {
    if (error instanceof CertificateChainError) throw new SigningError('CERTIFICATE_INVALID', `the certificate chain does not hold: ${error.message}`, { cause: error });
    throw error;
  }
  return { leaf, chain: issuers };
}

/** A PEM reader's `fail` for signing input: "<what>: <reason>". */
function signingFailure(what: string, code: SigningErrorCode): (reason: string) => never {
  return (reason) => {
    throw new SigningError(code, `${what}: ${reason}`);
  };
}

/** "signing failed at https://fulcio…: <reason>", digging the cause out of sigstore-js errors. */
function describe(what: string, error: unknown, url: string | undefined): string {
  const messages: string[] = [];
  for (let e = error as { message?: string; cause?: unknown } | undefined; e && messages.length < 4; e = e.cause as typeof e) {
    if (e.message && !messages.includes(e.message)) messages.push(e.message);
  }
  return `${what}${url ? ` (${url})` : ''}: ${messages.join(': ') || String(error)}`;
}
