/** The payload type of every model signature: an in-toto statement. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

// DSSE's pre-authentication encoding, the bytes actually signed, is @sigstore/core's
// `dsse.preAuthEncoding` (the one sigstore-js verifies with).

/**
 * The encoding model_signing v0.2 signed by mistake (`pae_compat` in the reference):
 * `f"DSSEV1 {len(type)} {type} {len(payload)} {payload!r}"`, capital V and the payload as a
 * Python bytes literal. The reference verifiers still accept it, and so does kernelseal, for
 * signatures of that release only ever; it is never produced.
 */
export function legacyPreAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  return Buffer.from(`DSSEV1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} ${pythonBytesRepr(payload)}`, 'utf8');
}

/** Python's repr() of a bytes object: `b'...'`, or `b"..."` when it holds `'` but no `"`. */
function pythonBytesRepr(bytes: Uint8Array): string {
  const quote = bytes.includes(0x27) && !bytes.includes(0x22) ? '"' : "'";
  let out = `b${quote}`;
  for (const byte of bytes) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte === quote.charCodeAt(0)) out += `\\${quote}`;
    else if (byte === 0x09) out += '\\t';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x0d) out += '\\r';
    else if (byte < 0x20 || byte >= 0x7f) out += `\\x${byte.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return `${out}${quote}`;
}
