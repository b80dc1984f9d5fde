import { readFileSync } from 'node:fs';
/** The runner's environment is not GitHub Actions, or lacks what provenance must say. */
export class ProvenanceEnvironmentError extends Error {
  override readonly name = 'ProvenanceEnvironmentError';
  readonly code = 'PROVENANCE_ENVIRONMENT_MISSING' as const;
}

/**
 * Which Sigstore instance a GitHub Actions job signs on, as actions/attest decides: public-good
 * (its public Rekor log) only when the event payload says the repository is public; otherwise,
 * private, internal, or unknown, GitHub's own instance, so that a private repository's names
 * and commits never reach a public log.
 */
export function instanceForThisJob(env: NodeJS.ProcessEnv): 'public-good' | 'github' {
  const path = env.GITHUB_EVENT_PATH;
  if (!path) return 'github';
  try {
    const event = JSON.parse(readFileSync(path, 'utf8')) as { repository?: { visibility?: unknown } };
    return event.repository?.visibility === 'public' ? 'public-good' : 'github';
  } catch {
    return 'github';
  }
}

/** The build type GitHub's own build-provenance action records (actions/attest-build-provenance). */
export const GITHUB_ACTIONS_BUILD_TYPE = 'https://actions.github.io/buildtypes/workflow/v1';

/** What provenance is built from: variables every GitHub Actions job has. */
const REQUIRED = [
  'GITHUB_ACTIONS',
  'GITHUB_SERVER_URL',
  'GITHUB_REPOSITORY',
  'GITHUB_REPOSITORY_ID',
  'GITHUB_REPOSITORY_OWNER_ID',
  'GITHUB_WORKFLOW_REF',
  'GITHUB_REF',
  'GITHUB_SHA',
  'GITHUB_EVENT_NAME',
  'GITHUB_RUN_ID',
  'GITHUB_RUN_ATTEMPT',
  'RUNNER_ENVIRONMENT',
] as const;

/**
 * SLSA provenance v1 for the current GitHub Actions job, in the shape GitHub's build-provenance
 * action writes: the top-level workflow (repository, ref, path) as external parameters, the
 * event and repository ids as internal ones, the commit built as the resolved source, the
 * runner as the builder, the run attempt as the invocation. Outside GitHub Actions (or with a
 * variable missing) it refuses, naming what is missing: provenance is never guessed.
 */
export function githubActionsProvenance(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const missing = REQUIRED.filter((name) => !env[name]);
  if (missing.length > 0 || env.GITHUB_ACTIONS !== 'true') {
    throw new ProvenanceEnvironmentError(
      `build provenance is made inside GitHub Actions only: ${missing.length > 0 ? `${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set` : 'GITHUB_ACTIONS is not "true"'}`,
    );
  }
  const server = env.GITHUB_SERVER_URL!.replace(/\/+$/, '');
  const repository = env.GITHUB_REPOSITORY!;
  // GITHUB_WORKFLOW_REF: owner/name/.github/workflows/file.yml@refs/heads/main
  const workflow = /^([^/]+\/[^/]+)\/(.+)@(.+)$/.exec(env.GITHUB_WORKFLOW_REF!);
  if (!workflow) throw new ProvenanceEnvironmentError(`GITHUB_WORKFLOW_REF is not "owner/name/path@ref": ${JSON.stringify(env.GITHUB_WORKFLOW_REF)}`);
  const [, workflowRepository, workflowPath, workflowRef] = workflow;
  return {
    buildDefinition: {
      buildType: GITHUB_ACTIONS_BUILD_TYPE,
      externalParameters: { workflow: { ref: workflowRef, repository: `${server}/${workflowRepository}`, path: workflowPath } },
      internalParameters: {
        github: {
          event_name: env.GITHUB_EVENT_NAME,
          repository_id: env.GITHUB_REPOSITORY_ID,
          repository_owner_id: env.GITHUB_REPOSITORY_OWNER_ID,
          runner_environment: env.RUNNER_ENVIRONMENT,
        },
      },
      resolvedDependencies: [{ uri: `git+${server}/${repository}@${env.GITHUB_REF}`, digest: { gitCommit: env.GITHUB_SHA } }],
    },
    runDetails: {
      builder: { id: `${server}/actions/runner/${env.RUNNER_ENVIRONMENT}` },
      metadata: { invocationId: `${server}/${repository}/actions/runs/${env.GITHUB_RUN_ID}/attempts/${env.GITHUB_RUN_ATTEMPT}` },
    },
  };
}
