import { HubClient, HubError } from './hub-client.js';
import type { PublisherFlagOptions } from './load-options.js';

/**
 * Why a load under the default policy is refused before anything is downloaded, as the kernels
 * library refuses it: the organisation of `repoId` is not marked a trusted kernel publisher on the
 * Hub (`trustedKernelPublisher`), or the Hub could not say. Undefined when the load may go on.
 * The flag only narrows trust: the signature must still satisfy the default policy, so it is read
 * only where nothing else says who is trusted (no policy, key, CA, list or lock), never with
 * `trustRemoteCode` (splitOptions in src/kernels/hub/load-options.ts decides), and offline not at
 * all (with a warning: nothing is downloaded then).
 */
export async function untrustedPublisherReason(repoId: string, { offline, hub }: PublisherFlagOptions, warn: (message: string) => void): Promise<string | undefined> {
  const org = repoId.split('/')[0]!;
  if (offline) {
    warn(`offline: not asking the Hub whether ${org} is a trusted kernel publisher (the cached kernel is verified all the same)`);
    return undefined;
  }
  const optOut = 'set trustRemoteCode (--trust-remote-code) to load kernels from other publishers; their signatures are checked all the same';
  let trusted: boolean;
  try {
    trusted = await new HubClient(hub).trustedKernelPublisher(org);
  } catch (error) {
    if (!(error instanceof HubError)) throw error;
    return `${repoId}: could not learn from the Hub whether ${org} is a trusted kernel publisher (${error.message}); ${optOut}`;
  }
  return trusted ? undefined : `${repoId}: ${org} is not a trusted kernel publisher on the Hub; ${optOut}`;
}
