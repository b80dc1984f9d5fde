import { X509Certificate } from '@sigstore/core';

// The one PEM reader of every input: keys, certificates, chains and CA bundles. A file may hold
// several blocks (a chain: intermediate then root) and text around them (`openssl ca` and
// `openssl x509 -text` print the certificate as text before its block; comments of a CA bundle).
// Only the blocks count, each decoded on its own, so that one block never runs into the next.

/** A `-----BEGIN <label>-----` ... `-----END <label>-----` block, with RFC 7468's label rules. */
const PEM_BLOCK = /-----BEGIN ([A-Z0-9]+(?: [A-Z0-9]+)*)-----\r?\n([\s\S]*?)-----END \1-----/g;
/** Encapsulated headers (RFC 1421: `Proc-Type: 4,ENCRYPTED`, `DEK-Info: ...`) of legacy encrypted keys. */
const HEADER_LINE = /^[A-Za-z-]+:.*$/gm;
/** Any line that opens a block: each must open one that ends, or the file is damaged. */
const BEGIN_LINE = /^-----BEGIN [^\n]*-----\r?$/gm;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface PemBlock {
  label: string;
  /** The block alone, BEGIN to END line, as Node's key parsers take it. */
  text: string;
  /** Its content, strictly decoded; undefined when it is not valid base64. */
  der: Buffer<ArrayBuffer> | undefined;
}

/**
 * The PEM blocks of a text, in order; whatever lies between them is ignored, but a block that
 * does not end (a truncated file) calls `fail`, rather than being skipped.
 */
export function pemBlocks(text: string, fail: (reason: string) => never): PemBlock[] {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  const opened = text.match(BEGIN_LINE)?.length ?? 0;
  if (opened !== blocks.length) fail(`${opened - blocks.length} of its ${opened} PEM blocks have no matching END line`);
  return blocks.map(([block, label, body]) => {
    const base64 = body!.replace(HEADER_LINE, '').replace(/\s+/g, '');
    return { label: label!, text: `${block}\n`, der: BASE64.test(base64) ? Buffer.from(base64, 'base64') : undefined };
  });
}

/**
 * Every certificate of a PEM text (a chain, a CA bundle), parsed, in order; `fail(reason)` is
 * called (and must throw) when there is none or one does not parse.
 */
export function parsePemCertificates(text: string, fail: (reason: string) => never): X509Certificate[] {
  const blocks = pemBlocks(text, fail).filter((block) => block.label === 'CERTIFICATE');
  if (blocks.length === 0) fail('it holds no PEM certificate');
  return blocks.map((block, i) => {
    if (!block.der) return fail(`certificate ${i} is not valid base64`);
    try {
      return X509Certificate.parse(block.der);
    } catch (error) {
      return fail(`certificate ${i} does not parse: ${(error as Error).message}`);
    }
  });
}

/** The one certificate of a PEM text (a signing certificate); more than one is refused. */
export function parsePemCertificate(text: string, fail: (reason: string) => never): X509Certificate {
  const certificates = parsePemCertificates(text, fail);
  if (certificates.length > 1) fail(`it holds ${certificates.length} certificates, not one: give its issuers separately`);
  return certificates[0]!;
}

/**
 * The one key block of a PEM text whose label ends in `kind` ("PUBLIC KEY"; "PRIVATE KEY" also
 * takes "EC PRIVATE KEY" and "ENCRYPTED PRIVATE KEY"), for Node's key parsers. Other blocks
 * (`openssl ecparam`'s EC PARAMETERS) are skipped; none, or two, is refused.
 */
export function pemKeyBlock(text: string, kind: 'PUBLIC KEY' | 'PRIVATE KEY', fail: (reason: string) => never): string {
  const blocks = pemBlocks(text, fail).filter((block) => block.label.endsWith(kind));
  if (blocks.length === 0) fail(`it holds no PEM ${kind.toLowerCase()}`);
  if (blocks.length > 1) fail(`it holds ${blocks.length} ${kind.toLowerCase()}s, not one`);
  return blocks[0]!.text;
}

/** The PEM text of DER bytes. */
export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return [`-----BEGIN ${label}-----`, ...lines, `-----END ${label}-----`, ''].join('\n');
}
