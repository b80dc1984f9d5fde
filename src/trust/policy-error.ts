/** A policy that cannot be built: malformed, or one that would trust too much. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  readonly code = 'POLICY_INVALID' as const;
}
