import { X509Certificate } from '@sigstore/core';

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The PEM certificate blocks of a text (a chain file, a CA bundle), in order. */
export function pemCertificateBlocks(text: string): string[] {
  return text.match(CERTIFICATE_BLOCK) ?? [];
}

/**
 * Every certificate of a PEM text, parsed; `fail(reason)` is called (and must throw) when there
 * is none or one does not parse.
 */
export function parsePemCertificates(text: string, fail: (reason: string) => never): X509Certificate[] {
  const blocks = pemCertificateBlocks(text);
  if (blocks.length === 0) fail('it holds no PEM certificate');
  return blocks.map((block, i) => {
    try {
      return X509Certificate.parse(block);
    } catch (error) {
      return fail(`certificate ${i} does not parse: ${(error as Error).message}`);
    }
  });
}

/** The DER bytes of a PEM block. */
export function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
}
