import { FULCIO_OID, type CertificateIdentity } from '../trust/certificate-identity.js';

/**
 * Whether a PyPI provenance object's trusted publisher is the one that signed: PyPI groups
 * attestations under the publisher it checked at upload, and the grouping is not signed, so the
 * claim is held against the certificate (as pypi-attestations' publisher policies do). GitHub:
 * the source repository and the top-level workflow (build config URI, `.18`); GitLab: the same
 * with its workflow file path; Google: the SAN. Another kind cannot be checked and is refused.
 * Undefined when it holds, else why not.
 */
export function publisherMismatch(publisher: Record<string, unknown>, identity: CertificateIdentity): string | undefined {
  const ext = identity.extensions;
  const text = (key: string) => (typeof publisher[key] === 'string' && publisher[key] !== '' ? (publisher[key] as string) : undefined);
  const kind = text('kind');
  const check = (what: string, actual: string | undefined, expected: string, prefix = false) =>
    actual !== undefined && (prefix ? actual.startsWith(expected) : actual === expected) ? undefined : `the ${kind} publisher's ${what} is ${JSON.stringify(expected)}, but the certificate says ${JSON.stringify(actual ?? '(nothing)')}`;
  const repositoryAt = (host: string, workflowPath: string | undefined) => {
    const repository = text('repository');
    if (!repository || !workflowPath) return `the ${kind} publisher names no repository or workflow`;
    return (
      check('repository', ext.get(FULCIO_OID.sourceRepositoryURI), `${host}/${repository}`) ??
      check('workflow', ext.get(FULCIO_OID.buildConfigURI), `${host}/${repository}/${workflowPath}@`, true)
    );
  };
  switch (kind) {
    case 'GitHub':
      return repositoryAt('https://github.com', text('workflow') && `.github/workflows/${text('workflow')}`);
    case 'GitLab':
      // GitLab's build config URI keeps the slash before the file path: `…/project//.gitlab-ci.yml@ref`.
      return repositoryAt('https://gitlab.com', text('workflow_filepath') && `/${text('workflow_filepath')}`);
    case 'Google': {
      const email = text('email');
      return email ? check('email', identity.subjectAlternativeName, email) : 'the Google publisher names no email';
    }
    default:
      return `unknown publisher kind ${JSON.stringify(publisher.kind)}: its claim cannot be checked against the certificate`;
  }
}
