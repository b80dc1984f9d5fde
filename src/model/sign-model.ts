import { bundleToJSON } from '@sigstore/bundle';
import { createHash, createPublicKey, sign as cryptoSign } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { DigestBackend, HashOptions } from '../hashing/backend.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { SigningError, parsePrivateKey, readSigningCertificate, signEnvelope, type KeyKinds, type SignerOptions } from '../sign/sign-bytes.js';
import { CertificateChainError, checkSigningUsage } from '../sigstore/certificate-chain.js';
import { MAX_SIGNATURE_BYTES } from './signature-file.js';
import { dsse } from '@sigstore/core';
import { IN_TOTO_PAYLOAD_TYPE } from '../sigstore/dsse.js';
import { hashModel } from './hash-model.js';
import { DEFAULT_IGNORE_PATHS, modelRelativePaths, signatureInsideModel } from './ignore-paths.js';
import type { ModelHashType, ModelManifest, Serialization } from './manifest.js';
import { statementPayload } from './statement.js';
import { CURVE_HASH } from './verify-signature.js';
import { defaultSignaturePath } from './verify-model.js';

const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** What model_signing signs with: ECDSA, the hash chosen by the curve (CURVE_HASH). */
const MODEL_KEYS: KeyKinds = new Map([
  ['ec:prime256v1', 'ECDSA P-256'],
  ['ec:secp384r1', 'ECDSA P-384'],
  ['ec:secp521r1', 'ECDSA P-521'],
]);

export interface SignModelOptions extends HashOptions {
  /** Keyless (Fulcio and Rekor), a managed ECDSA key, or a certificate of your own PKI. */
  signer: SignerOptions;
  /** Default sha256, as the reference CLI. */
  hashType?: ModelHashType;
  /** Cut files into shards of this many bytes (`shards` serialization); default: whole files. */
  shardSize?: number;
  /** Follow symlinks to files (default: refuse them, as the reference does). */
  allowSymlinks?: boolean;
  /** Paths to leave out (model-relative); recorded in the signature. */
  ignorePaths?: readonly string[];
  /** Leave out .git, .gitattributes, .github, .gitignore at the root (default true). */
  ignoreGitPaths?: boolean;
  /** Where to write the signature; default `<model>/model.sig` for a directory, `<model>.sig` for a file. */
  signature?: string;
  backend?: DigestBackend;
}

export interface SignedModel {
  signaturePath: string;
  manifest: ModelManifest;
  /** The signature bundle as written (JSON). */
  bundle: Record<string, unknown>;
  bytes: number;
}

/**
 * Signs a model in the OpenSSF Model Signing format (OMS v1.0, as model_signing 1.1 writes it):
 * hashes the model, builds the in-toto statement (the reference's exact bytes), signs it in a
 * DSSE envelope and writes the bundle atomically. Keyless signatures are logged in Rekor
 * (`dsse` entry) like sigstore-python's; key and certificate signatures, like the reference's,
 * are not logged and sign with the hash of the key's curve. Nothing is written on failure.
 */
export async function signModel(modelPath: string, options: SignModelOptions): Promise<SignedModel> {
  const info = await stat(modelPath).catch(() => undefined);
  if (!info || !(info.isDirectory() || info.isFile())) throw new SigningError('INPUT_INVALID', `${modelPath}: not a model directory or file`);
  const signaturePath = options.signature ?? defaultSignaturePath(modelPath, info.isDirectory());
  const ignorePaths = info.isDirectory() ? await modelRelativePaths(modelPath, options.ignorePaths ?? []) : [];
  if (info.isDirectory() && options.ignoreGitPaths !== false) ignorePaths.push(...DEFAULT_IGNORE_PATHS);
  const signatureInside = await signatureInsideModel(modelPath, signaturePath);
  if (signatureInside !== undefined) ignorePaths.push(signatureInside);
  const serialization: Serialization = {
    method: options.shardSize === undefined ? 'files' : 'shards',
    hashType: options.hashType ?? 'sha256',
    allowSymlinks: options.allowSymlinks ?? false,
    ...(options.shardSize === undefined ? {} : { shardSize: options.shardSize }),
    ...(info.isDirectory() ? { ignorePaths: [...new Set(ignorePaths)] } : {}),
  };
  const hashed = await hashModel(modelPath, { ...options, serialization, ignorePaths });
  if (hashed.resources.length === 0) throw new SigningError('INPUT_INVALID', `${modelPath}: no file to sign (an empty model cannot be signed)`);
  const manifest: ModelManifest = { modelName: hashed.modelName, serialization, resources: hashed.resources };
  const payload = statementPayload(manifest);
  // Base64 grows the statement by a third; verify-model reads signatures up to this size.
  if ((payload.length * 4) / 3 > MAX_SIGNATURE_BYTES - 1024 * 1024) {
    throw new SigningError('INPUT_INVALID', `${modelPath}: ${hashed.resources.length} resources make a signature larger than verify-model reads (${MAX_SIGNATURE_BYTES} bytes); use larger shards or fewer files`);
  }
  const bundle = await signStatement(payload, options.signer);
  await writeFileAtomic(signaturePath, JSON.stringify(bundle));
  return { signaturePath, manifest, bundle, bytes: hashed.bytes };
}

/** The signature bundle of a statement, by signing method. */
async function signStatement(payload: Buffer, signer: SignerOptions): Promise<Record<string, unknown>> {
  if (signer.method === 'keyless') return bundleToJSON(await signEnvelope(payload, IN_TOTO_PAYLOAD_TYPE, signer)) as Record<string, unknown>;
  const key = parsePrivateKey(signer.privateKey, signer.passphrase, MODEL_KEYS);
  let material: Record<string, unknown>;
  if (signer.method === 'key') {
    // model_signing 1.1's key hint: the SHA-256 of the public key's PEM text.
    const pem = createPublicKey(key).export({ format: 'pem', type: 'spki' }).toString();
    material = { publicKey: { hint: createHash('sha256').update(pem).digest('hex') }, tlogEntries: [] };
  } else {
    // Checked before signing: a certificate verify-model would refuse signs nothing.
    const { leaf, chain } = readSigningCertificate(key, signer.certificate, signer.chain);
    try {
      checkSigningUsage(leaf);
    } catch (error) {
      if (!(error instanceof CertificateChainError)) throw error;
      throw new SigningError('CERTIFICATE_INVALID', error.message, { cause: error });
    }
    const certificates = [leaf, ...chain].map((certificate) => ({ rawBytes: certificate.root.toDER().toString('base64') }));
    material = { x509CertificateChain: { certificates }, tlogEntries: [] };
  }
  const hash = CURVE_HASH[key.asymmetricKeyDetails!.namedCurve!]!;
  const sig = cryptoSign(hash, dsse.preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, Buffer.from(payload)), key);
  return {
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial: material,
    dsseEnvelope: { payload: payload.toString('base64'), payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [{ sig: sig.toString('base64'), keyid: '' }] },
  };
}
