import type { DigestBackend } from './backend.js';
import { createNativeBackend } from './native/backend.js';
import { pureBackend } from './pure/backend.js';

/** The environment variable that forces a backend: `native` or `pure`. */
export const BACKEND_ENV = 'KERNELSEAL_DIGEST_BACKEND';

/**
 * KERNELSEAL_DIGEST_BACKEND names no backend, or `native` when the addon cannot load: a
 * mistake in how the program was started, reported in one line (the CLI exits 2).
 */
export class DigestBackendChoiceError extends Error {
  override readonly name = 'DigestBackendChoiceError';
  readonly code = 'DIGEST_BACKEND_UNAVAILABLE' as const;
}

let chosen: { backend: DigestBackend; nativeUnavailable?: string } | undefined;

/**
 * The digest backend this process uses: native when the addon loads, pure otherwise.
 * `KERNELSEAL_DIGEST_BACKEND=native` makes a missing addon an error instead of a fallback.
 */
export function digestBackend(): DigestBackend {
  return choose().backend;
}

/** Why the native backend is not in use, or undefined when it is. */
export function nativeUnavailableReason(): string | undefined {
  return choose().nativeUnavailable;
}

function choose(): NonNullable<typeof chosen> {
  if (chosen) return chosen;
  const forced = process.env[BACKEND_ENV] ?? '';
  if (forced !== '' && forced !== 'native' && forced !== 'pure') {
    throw new DigestBackendChoiceError(`${BACKEND_ENV} must be "native" or "pure", not ${JSON.stringify(forced)}`);
  }
  if (forced === 'pure') {
    chosen = { backend: pureBackend, nativeUnavailable: `${BACKEND_ENV}=pure` };
    return chosen;
  }
  try {
    chosen = { backend: createNativeBackend() };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (forced === 'native') throw new DigestBackendChoiceError(`${BACKEND_ENV}=native, but ${reason}`, { cause: error });
    chosen = { backend: pureBackend, nativeUnavailable: reason };
  }
  return chosen;
}
