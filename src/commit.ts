/**
 * A git commit as kernelseal takes one: its full SHA-1 name, 40 lowercase hex digits, as git,
 * the Hub's API, a kernels.lock and Fulcio's source repository digest write it. A branch, a
 * tag or an abbreviated name is no commit: it can move, or name two.
 */
export function isCommit(text: unknown): text is string {
  return typeof text === 'string' && /^[0-9a-f]{40}$/.test(text);
}
