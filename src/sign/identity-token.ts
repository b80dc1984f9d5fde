import { CIContextProvider } from '@sigstore/sign';
import { isJSONObject } from '../json/json-object.js';

/** The OIDC identity token cannot be obtained or cannot be used to sign. */
export class IdentityTokenError extends Error {
  override readonly name = 'IdentityTokenError';
  readonly code = 'IDENTITY_TOKEN_UNUSABLE' as const;
}

/** Seconds of clock skew tolerated when deciding that a token has expired. */
const CLOCK_SKEW_SECONDS = 30;

/**
 * The identity token to sign with: the one given, else SIGSTORE_ID_TOKEN, else the CI's
 * ambient credentials (GitHub Actions' ACTIONS_ID_TOKEN_REQUEST_* with audience "sigstore",
 * Buildkite). Checked before any request to Fulcio: see {@link checkIdentityToken}.
 */
export async function resolveIdentityToken(given?: string): Promise<string> {
  const token = given ?? (process.env.SIGSTORE_ID_TOKEN || undefined) ?? (await ambientToken());
  checkIdentityToken(token);
  return token;
}

async function ambientToken(): Promise<string> {
  try {
    return await new CIContextProvider('sigstore').getToken();
  } catch {
    throw new IdentityTokenError(
      'no identity token: pass --identity-token, set SIGSTORE_ID_TOKEN, or run in a CI with OIDC ' +
        '(GitHub Actions needs "permissions: id-token: write")',
    );
  }
}

/**
 * Refuses a token Fulcio would refuse, with a clear reason and before any network traffic:
 * not a JWT, no issuer, no subject, or expired.
 */
export function checkIdentityToken(token: string, now = Date.now()): void {
  const parts = token.trim().split('.');
  if (parts.length !== 3) throw new IdentityTokenError('the identity token is not a JWT (header.payload.signature)');
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    throw new IdentityTokenError('the identity token payload is not JSON');
  }
  if (!isJSONObject(claims)) throw new IdentityTokenError('the identity token payload is not a JSON object');
  if (typeof claims.iss !== 'string' || claims.iss === '') throw new IdentityTokenError('the identity token has no "iss" (issuer) claim');
  const subject = claims.email ?? claims.sub;
  if (typeof subject !== 'string' || subject === '') throw new IdentityTokenError('the identity token has no "sub" or "email" claim');
  if (typeof claims.exp !== 'number') throw new IdentityTokenError('the identity token has no "exp" (expiry) claim');
  if (claims.exp + CLOCK_SKEW_SECONDS < now / 1000) {
    throw new IdentityTokenError(`the identity token expired at ${new Date(claims.exp * 1000).toISOString()}`);
  }
}
