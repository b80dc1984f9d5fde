/**
 * A Hub repository id as kernelseal takes one: `<owner>/<name>`, by huggingface_hub's rule
 * (`validate_repo_id`, the Hub's own): each part ASCII letters, digits, `_`, `.` and `-`,
 * starting and ending with a letter, digit or `_`; no `--` (the cache's separator) nor `..`
 * anywhere; the name at most 96 characters and not ending in `.git`. The owner is required (a
 * kernel lives under an org or a user), and letters are ASCII only (the Hub names no
 * repository otherwise, where Python's `\w` would also take other scripts' letters).
 */
export function isRepoId(text: unknown): text is string {
  if (typeof text !== 'string') return false;
  const parts = text.split('/');
  return parts.length === 2 && isRepoOwner(parts[0]!) && NAME.test(parts[1]!) && !text.includes('--') && !text.includes('..') && !text.endsWith('.git');
}

/** The owner part of a repository id (an org or a user), by the same rule: what `org/*` names. */
export function isRepoOwner(text: string): boolean {
  return OWNER.test(text) && !text.includes('--') && !text.includes('..');
}

/** What a repository id must be, in words, for messages. */
export const REPO_ID_RULE = 'org/name: ASCII letters, digits, "_", "." and "-", each part starting and ending with a letter, digit or "_", no "--" or "..", the name at most 96 characters and not ending in ".git"';

const OWNER = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;
const NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?$/;
