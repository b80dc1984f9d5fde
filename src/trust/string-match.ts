import { PolicyError } from './policy-error.js';

/** How a policy compares one value of the certificate: exactly, by an anchored regex, or one of a set. */
export interface StringMatch {
  /** For messages: `"x"`, `matching ^(?:re)$`, `one of "a", "b"`. */
  readonly description: string;
  /** The values it accepts when it is a list of them (exactly, oneOf); absent for a pattern. */
  readonly values?: readonly string[];
  /**
   * For a pattern: the literal text every value it accepts starts and ends with ("" when none:
   * literalEnds). Whether a policy pins a signer is read from it and from `values`
   * (src/trust/shared-issuers.ts); absent on both, nothing is known.
   */
  readonly literal?: { readonly prefix: string; readonly suffix: string };
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
  // Under `i` the ends are read in lower case: the owners and domains they may pin (GitHub and
  // GitLab owners, email domains: src/trust/shared-issuers.ts) compare without case, so
  // `(?i)HTTPS://GITHUB\.COM/ORG/.*` pins the owner `org` as the lower-case pattern does.
  const ends = literalEnds(source);
  const literal = flags.includes('i') ? { prefix: ends.prefix.toLowerCase(), suffix: ends.suffix.toLowerCase() } : ends;
  return { description: `matching ${flags ? `/${regex.source}/${flags}` : regex.source}`, literal, test: (value) => regex.test(value) };
}

/**
 * The literal text every match of `source` (a valid pattern, compiled without flags) starts and
 * ends with: `https://github\.com/my-org/.*` starts with `https://github.com/my-org/`. Read
 * conservatively, token by token: the ends stop at the first token that is not one plain
 * character (a class, a group, `.`, an escape of a letter or digit, a quantified character),
 * and a top-level alternation keeps only what all its branches share. Never longer than the
 * truth; sometimes shorter.
 */
export function literalEnds(source: string): { prefix: string; suffix: string } {
  const branches = topLevelBranches(source).map(tokens);
  const prefixes = branches.map((branch) => leadingLiterals(branch).join(''));
  const suffixes = branches.map((branch) => leadingLiterals([...branch].reverse()).reverse().join(''));
  const reverse = (text: string) => [...text].reverse().join('');
  return { prefix: prefixes.reduce(commonPrefix), suffix: reverse(suffixes.map(reverse).reduce(commonPrefix)) };
}

/** One token of a pattern: a plain character (`literal`), or anything else (undefined). */
type Token = { literal?: string };

/** The pattern's top-level alternatives (`a|b(c|d)` is `a` and `b(c|d)`). */
function topLevelBranches(source: string): string[] {
  const branches: string[] = [];
  let depth = 0;
  let inClass = false;
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      branches.push(source.slice(start, i));
      start = i + 1;
    }
  }
  branches.push(source.slice(start));
  return branches;
}

/** A branch as tokens; a quantifier turns the token it applies to into a non-literal one. */
function tokens(branch: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < branch.length) {
    const c = branch[i]!;
    const quantifier = /^(?:[?*+]|\{\d+(?:,\d*)?\})\??/.exec(branch.slice(i));
    if (quantifier && out.length > 0) {
      out[out.length - 1] = {};
      i += quantifier[0].length;
    } else if (c === '\\') {
      // \d, \w, \b, \1, \x41, \u0041, \cA, \k<name> ...: classes, assertions, references,
      // codes; taken whole, with every letter and digit after them (never fewer than they hold).
      const escape = /^\\(?:k<[^>]*>|[A-Za-z0-9][A-Za-z0-9]*|.)?/s.exec(branch.slice(i))![0];
      out.push(escape.length === 2 && !/[A-Za-z0-9]/.test(escape[1]!) ? { literal: escape[1]! } : {});
      i += escape.length;
    } else if (c === '[') {
      let j = i + 1;
      while (j < branch.length && branch[j] !== ']') j += branch[j] === '\\' ? 2 : 1;
      out.push({});
      i = j + 1;
    } else if (c === '(') {
      let depth = 0;
      let j = i;
      for (; j < branch.length; j++) {
        if (branch[j] === '\\') j++;
        else if (branch[j] === '[') while (j < branch.length && branch[j] !== ']') j += branch[j] === '\\' ? 2 : 1;
        else if (branch[j] === '(') depth++;
        else if (branch[j] === ')' && --depth === 0) break;
      }
      out.push({});
      i = j + 1;
    } else if ((c === '^' && i === 0) || (c === '$' && i === branch.length - 1)) {
      i++; // an anchor at the end it stands for: zero width, no text
    } else {
      out.push('^$.|?*+()[]{}'.includes(c) ? {} : { literal: c });
      i++;
    }
  }
  return out;
}

function leadingLiterals(list: Token[]): string[] {
  const out: string[] = [];
  for (const token of list) {
    if (token.literal === undefined) break;
    out.push(token.literal);
  }
  return out;
}

function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.slice(0, i);
}
