import { isJSONObject } from '../json/json-object.js';
import type { Signer } from '../sigstore/verify-bundle.js';
import type { Policy } from '../trust/policy.js';
import type { KernelMetadata } from './metadata.js';

/**
 * What a variant's signed metadata.json says about its source, as kernel-builder writes it:
 *
 *   "provenance": { "kernel": { "sha": "<commit>", "dirty": false },
 *                   "kernel-builder": { "version": "0.17.0", "sha": "<commit>", "dirty": false } }
 *
 * (`ref`, where a builder states one, is read too). Only string and boolean values count.
 */
export interface StatedSource {
  /** The commit of the kernel's source the build was made from. */
  commit?: string;
  /** Built from a tree with uncommitted changes: no commit is its source. */
  dirty?: boolean;
  ref?: string;
  builderVersion?: string;
}

/** The stated source of signed metadata, or undefined when it states none. */
export function statedSource(metadata: KernelMetadata): StatedSource | undefined {
  const provenance = object(metadata.provenance);
  const kernel = object(provenance?.kernel);
  if (!kernel) return undefined;
  const builder = object(provenance?.['kernel-builder']);
  const source: StatedSource = {};
  if (typeof kernel.sha === 'string') source.commit = kernel.sha;
  if (typeof kernel.dirty === 'boolean') source.dirty = kernel.dirty;
  if (typeof kernel.ref === 'string') source.ref = kernel.ref;
  if (typeof builder?.version === 'string') source.builderVersion = builder.version;
  return Object.keys(source).length > 0 ? source : undefined;
}

/**
 * Where the source the signed metadata states and the source the signing certificate names
 * (Fulcio's source repository digest `.13` and ref `.14`) disagree: a pull request's build signed
 * by a run of the main branch, or a build of uncommitted changes. Undefined when they agree, or
 * when there is nothing to compare (no stated source, or a signer without source extensions:
 * a key, an e-mail identity).
 */
export function sourceMismatch(metadata: KernelMetadata, signer: Signer): string | undefined {
  const stated = statedSource(metadata);
  if (!stated || signer.commit === undefined) return undefined;
  if (stated.dirty === true) {
    return `metadata.json says the kernel was built from uncommitted changes (provenance.kernel.dirty), but the signer's run built commit ${signer.commit}`;
  }
  if (stated.commit !== undefined && stated.commit.toLowerCase() !== signer.commit.toLowerCase()) {
    return `metadata.json says the kernel was built from commit ${stated.commit} (provenance.kernel.sha), but the signing certificate's source repository digest (1.3.6.1.4.1.57264.1.13) is ${signer.commit}${signer.ref ? ` (${signer.ref})` : ''}: the files were built from other source than the run that signed them`;
  }
  if (stated.ref !== undefined && signer.ref !== undefined && stated.ref !== signer.ref) {
    return `metadata.json says the kernel was built from ${stated.ref} (provenance.kernel.ref), but the signing certificate's source repository ref (1.3.6.1.4.1.57264.1.14) is ${signer.ref}`;
  }
  return undefined;
}

/**
 * Why the source is not compared, when the signer is a workflow `policy` declares re-signs
 * builds another run made (Policy.resigners: kernels-community's sign-old-builds): its run never
 * built the files, so its commit says nothing of their source. Undefined for any other signer,
 * whose source sourceMismatch compares.
 */
export function resignedBy(signer: Signer, policy: Policy | undefined): string | undefined {
  if (signer.workflow === undefined || !policy?.resigners?.includes(signer.workflow)) return undefined;
  return `the signer ${signer.workflow} re-signs builds other runs made (so the policy declares): the source metadata.json states was not compared with its run's`;
}

function object(value: unknown): Record<string, unknown> | undefined {
  return isJSONObject(value) ? value : undefined;
}
