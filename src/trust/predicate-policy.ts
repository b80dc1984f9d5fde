import { isJSONObject } from '../json/json-object.js';
import type { InTotoStatement, Policy } from './policy.js';
import type { StringMatch } from './string-match.js';

/** What SLSA provenance says about a build, in the same words for v1 and v0.2. */
export interface ProvenanceFacts {
  builderId?: string;
  buildType?: string;
  /** The repository of the top-level workflow, as a URL (`https://github.com/org/name`). */
  workflowRepository?: string;
  workflowRef?: string;
  /** The workflow file in that repository (`.github/workflows/release.yml`). */
  workflowPath?: string;
  /** The source commit the build resolved (git commit or sha1). */
  sourceDigest?: string;
  /** The run: a URL (v1) or a run id (v0.2). */
  invocationId?: string;
}

/** The fields a policy may test, with their names for people. */
export const PROVENANCE_FIELDS = {
  builderId: 'builder id',
  buildType: 'build type',
  workflowRepository: 'workflow repository',
  workflowRef: 'workflow ref',
  workflowPath: 'workflow path',
  sourceDigest: 'resolved source digest',
} as const;

export type ProvenanceField = keyof typeof PROVENANCE_FIELDS;

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const SLSA_PROVENANCE_V02 = 'https://slsa.dev/provenance/v0.2';

/**
 * The build facts of SLSA provenance v1 (buildDefinition / runDetails, as GitHub's
 * build-provenance action and npm write them) or v0.2 (builder / invocation.configSource).
 * Another predicate type has none. Only string values count: anything else is absent.
 */
export function provenanceFacts(statement: InTotoStatement): ProvenanceFacts {
  const p = statement.predicate;
  if (statement.predicateType === SLSA_PROVENANCE_V1) {
    const workflow = at(p, 'buildDefinition', 'externalParameters', 'workflow');
    const dependencies = at(p, 'buildDefinition', 'resolvedDependencies');
    const source = Array.isArray(dependencies) ? dependencies.find((d) => typeof at(d, 'uri') === 'string' && (at(d, 'uri') as string).startsWith('git+')) : undefined;
    return clean({
      builderId: at(p, 'runDetails', 'builder', 'id'),
      buildType: at(p, 'buildDefinition', 'buildType'),
      workflowRepository: at(workflow, 'repository'),
      workflowRef: at(workflow, 'ref'),
      workflowPath: at(workflow, 'path'),
      sourceDigest: at(source, 'digest', 'gitCommit') ?? at(source, 'digest', 'sha1'),
      invocationId: at(p, 'runDetails', 'metadata', 'invocationId'),
    });
  }
  if (statement.predicateType === SLSA_PROVENANCE_V02) {
    const config = at(p, 'invocation', 'configSource');
    // uri: git+https://github.com/org/name@refs/tags/v1; entryPoint: [org/name/]path@ref.
    const uri = /^git\+(https:\/\/[^@]+)@(.+)$/.exec(str(at(config, 'uri')) ?? '');
    const entryPoint = /^(.+?)(?:@.*)?$/.exec(str(at(config, 'entryPoint')) ?? '')?.[1];
    const repositoryPath = uri ? /^https:\/\/[^/]+\/(.+)$/.exec(uri[1]!)?.[1] : undefined;
    const workflowPath = repositoryPath && entryPoint?.startsWith(`${repositoryPath}/`) ? entryPoint.slice(repositoryPath.length + 1) : entryPoint;
    return clean({
      builderId: at(p, 'builder', 'id'),
      buildType: at(p, 'buildType'),
      workflowRepository: uri?.[1],
      workflowRef: uri?.[2],
      workflowPath,
      sourceDigest: at(config, 'digest', 'sha1'),
      invocationId: at(p, 'metadata', 'buildInvocationId'),
    });
  }
  return {};
}

/**
 * One field of the provenance in the signed statement. Without a statement (a signature over
 * bytes, a kernel's metadata) the policy does not hold: it never passes for want of a predicate.
 */
export function provenancePolicy(field: ProvenanceField, match: StringMatch): Policy {
  const name = PROVENANCE_FIELDS[field];
  return {
    description: `provenance ${name} ${match.description}`,
    pinsIssuer: false,
    // The signer writes the predicate: it says what the signer claims, never who signed.
    pinsSigner: false,
    unpinnedIssuers: [],
    check(_identity, statement) {
      if (!statement) return `the policy checks the provenance ${name}, but the signature carries no in-toto statement`;
      const value = provenanceFacts(statement)[field];
      if (value === undefined) return `the ${statement.predicateType} predicate has no ${name}`;
      return match.test(value) ? undefined : `provenance ${name} is ${JSON.stringify(value)}, expected ${match.description}`;
    },
  };
}

function at(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!isJSONObject(current)) return undefined;
    current = Object.hasOwn(current, key) ? current[key] : undefined;
  }
  return current;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function clean(facts: Record<keyof ProvenanceFacts, unknown>): ProvenanceFacts {
  return Object.fromEntries(Object.entries(facts).flatMap(([key, value]) => (str(value) ? [[key, value]] : []))) as ProvenanceFacts;
}
