import { PolicyError } from './policy-error.js';

/** How a policy compares one value of the certificate: exactly, by an anchored regex, or one of a set. */
export interface StringMatch {
  /** For messages: `"x"`, `matching ^(?:re)$`, `one of "a", "b"`. */
  readonly description: string;
  /** The values it accepts when it is a list of them (exactly, oneOf); absent for a pattern. */
  readonly values?: readonly string[];
  test(value: string): boolean;
}

/** Matches `expected` exactly. */
export function exactly(expected: string): StringMatch {
  return { description: JSON.stringify(expected), values: [expected], test: (value) => value === expected };
}

/** Matches any of `values` exactly. */
export function oneOf(values: readonly string[]): StringMatch {
  if (values.length === 0) throw new PolicyError('a "oneOf" list must not be empty');
  return {
    description: `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`,
    values: [...values],
    test: (value) => values.includes(value),
  };
}

/**
 * Matches the whole value against `source`, always anchored: `^(?:source)$`. A pattern that
 * would match part of a value never matches (`org/repo` does not match `evil-org/repo-x`).
 * `flags` may be `i` (case-insensitive) and `s` (`.` matches line breaks), which leave the
 * anchoring whole; `m` would not, and is refused with the others.
 */
export function matching(source: string, flags = ''): StringMatch {
  if (!/^i?s?$/.test(flags)) throw new PolicyError(`regular expression flags may be i and s (in that order), not ${JSON.stringify(flags)}`);
  let regex: RegExp;
  try {
    // Compiled alone first: only a pattern that stands on its own may be wrapped, or a source
    // such as `x)|(.*` would close the group and escape the anchors.
    new RegExp(source, flags);
    regex = new RegExp(`^(?:${source})$`, flags);
  } catch (error) {
    throw new PolicyError(`invalid regular expression ${JSON.stringify(source)}: ${(error as Error).message}`, { cause: error });
  }
  return { description: `matching ${flags ? `/${regex.source}/${flags}` : regex.source}`, test: (value) => regex.test(value) };
}
