import { ASN1Obj, type X509Certificate } from '@sigstore/core';

/**
 * Fulcio's certificate extensions (OID 1.3.6.1.4.1.57264.1.N, sigstore/fulcio/docs/oid-info.md): key
 * (the name policies use), arc, and name in messages. `.7` is not an extension of its own: it
 * types an OtherName inside the subject alternative name.
 */
const EXTENSIONS = [
  // Legacy, raw strings.
  ['issuerV1', 1, 'issuer (legacy)'],
  ['githubWorkflowTrigger', 2, 'GitHub workflow trigger (legacy)'],
  ['githubWorkflowSha', 3, 'GitHub workflow SHA (legacy)'],
  ['githubWorkflowName', 4, 'GitHub workflow name (legacy)'],
  ['githubWorkflowRepository', 5, 'GitHub workflow repository (legacy)'],
  ['githubWorkflowRef', 6, 'GitHub workflow ref (legacy)'],
  // From here on, DER UTF8String values.
  ['issuer', 8, 'issuer'],
  ['buildSignerURI', 9, 'build signer URI'],
  ['buildSignerDigest', 10, 'build signer digest'],
  ['runnerEnvironment', 11, 'runner environment'],
  ['sourceRepositoryURI', 12, 'source repository URI'],
  ['sourceRepositoryDigest', 13, 'source repository digest'],
  ['sourceRepositoryRef', 14, 'source repository ref'],
  ['sourceRepositoryIdentifier', 15, 'source repository identifier'],
  ['sourceRepositoryOwnerURI', 16, 'source repository owner URI'],
  ['sourceRepositoryOwnerIdentifier', 17, 'source repository owner identifier'],
  ['buildConfigURI', 18, 'build config URI'],
  ['buildConfigDigest', 19, 'build config digest'],
  ['buildTrigger', 20, 'build trigger'],
  ['runInvocationURI', 21, 'run invocation URI'],
  ['sourceRepositoryVisibility', 22, 'source repository visibility'],
  // The job's deployment environment: set only when the job ran in a GitHub environment, whose
  // protection rules (required reviewers, branches) held before the job could get its token.
  ['deploymentEnvironment', 23, 'deployment environment'],
] as const;

/** The name of a Fulcio extension, as policy files and --certificate-extension say it. */
export type ExtensionName = (typeof EXTENSIONS)[number][0];
type ExtensionKey = ExtensionName;

/** Fulcio extension OIDs by key: `FULCIO_OID.sourceRepositoryURI` is `1.3.6.1.4.1.57264.1.12`. */
export const FULCIO_OID = Object.fromEntries(EXTENSIONS.map(([key, arc]) => [key, `1.3.6.1.4.1.57264.1.${arc}`])) as Record<
  ExtensionKey,
  string
>;

const NAMES = new Map<string, string>(EXTENSIONS.map(([, arc, name]) => [`1.3.6.1.4.1.57264.1.${arc}`, name]));

/**
 * The OID a policy means by `name`: a Fulcio extension's name (`deploymentEnvironment`), or an
 * OID as it is. Undefined for anything else: an unknown name is an error, never ignored.
 */
export function extensionOid(name: string): string | undefined {
  if (Object.hasOwn(FULCIO_OID, name)) return FULCIO_OID[name as ExtensionName];
  return /^\d+(\.\d+)+$/.test(name) ? name : undefined;
}

/** Every Fulcio extension's name, for messages and help. */
export const EXTENSION_NAMES: readonly ExtensionName[] = EXTENSIONS.map(([key]) => key);

/** "source repository URI (1.3.6.1.4.1.57264.1.12)" */
export function describeExtension(oid: string): string {
  const name = NAMES.get(oid);
  return name ? `${name} (${oid})` : oid;
}

const FULCIO_ARC = '1.3.6.1.4.1.57264.1.';
const UTF8_STRING_TAG = 0x0c;

/** What a Fulcio certificate says about its subject, extension values decoded to strings. */
export interface CertificateIdentity {
  /** The subject alternative name: a URI (CI workflows) or an email address. */
  subjectAlternativeName: string | undefined;
  /** Fulcio extension OID -> value. `.1`-`.6` are raw strings, `.8` and up are DER-decoded. */
  extensions: ReadonlyMap<string, string>;
  /** Fulcio extensions whose value could not be decoded, with why; never matched. */
  undecodable: ReadonlyMap<string, string>;
}

/** Reads the identity of a (verified) Fulcio certificate. */
export function certificateIdentity(certificate: X509Certificate): CertificateIdentity {
  const extensions = new Map<string, string>();
  const undecodable = new Map<string, string>();
  for (const ext of certificate.extensions) {
    const oid = ext.subs[0]?.toOID();
    if (!oid?.startsWith(FULCIO_ARC)) continue;
    const arc = Number(oid.slice(FULCIO_ARC.length));
    const raw = ext.subs[ext.subs.length - 1]!.value;
    try {
      extensions.set(oid, arc >= 8 ? decodeUtf8String(raw) : decodeStrictUtf8(raw));
    } catch (error) {
      undecodable.set(oid, (error as Error).message);
    }
  }
  return { subjectAlternativeName: certificate.subjectAltName, extensions, undecodable };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function decodeStrictUtf8(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new Error('not valid UTF-8');
  }
}

/** Extensions `.8` and up hold a DER UTF8String: comparing the raw bytes would never match. */
function decodeUtf8String(der: Buffer): string {
  let obj: ASN1Obj;
  try {
    obj = ASN1Obj.parseBuffer(der as Buffer<ArrayBuffer>);
  } catch (error) {
    throw new Error(`not DER: ${(error as Error).message}`);
  }
  if (!obj.tag.isUniversal() || obj.tag.number !== UTF8_STRING_TAG || obj.tag.constructed) throw new Error('not a DER UTF8String');
  return decodeStrictUtf8(obj.value);
}

/** The OIDC issuer: `.8` when present, else the legacy `.1`. */
export function issuerOf(identity: CertificateIdentity): string | undefined {
  return identity.extensions.get(FULCIO_OID.issuer) ?? identity.extensions.get(FULCIO_OID.issuerV1);
}
