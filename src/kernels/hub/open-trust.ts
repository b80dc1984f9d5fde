import type { TrustAnchor } from '../../sigstore/trust-anchor.js';
import { openPublisherList } from '../publishers/open-list.js';
import type { TrustSource, Warn } from './load-options.js';
import { KernelRefusedError } from './load-outcome.js';
import { untrustedPublisherReason } from './publisher-flag.js';

/**
 * Stage 1, trust: whom this load trusts. A policy, key or CA chain as given (under the default
 * policy alone, only an organisation the Hub flags a trusted kernel publisher, asked before
 * anything else: src/kernels/hub/publisher-flag.ts); or a trusted publisher list
 * (docs/publishers.md), opened from its pinned root (refreshed at most once an interval, offline
 * from the cache alone) before anything of the kernel is fetched, whose entries for `repoId` then
 * decide who may sign. A list that cannot be used throws (PublisherListError): never a fall back
 * to another policy.
 */
export async function openTrust(repoId: string, source: TrustSource, warn: Warn): Promise<TrustAnchor> {
  if ('anchor' in source) {
    const untrusted = source.publisherFlag && (await untrustedPublisherReason(repoId, source.publisherFlag, warn));
    if (untrusted) throw new KernelRefusedError(untrusted, undefined, undefined, 'PUBLISHER_UNTRUSTED');
    return source.anchor;
  }
  const { list, offline, hub, signal } = source;
  const { endpoint, token, timeoutMs } = hub;
  const opened = await openPublisherList({ ...list, offline, hub: { endpoint, token, timeoutMs }, signal, onWarning: warn });
  return { publishers: { list: opened, repoId } };
}
