import { UsageError } from './usage.js';

/** Go's inline flags that a JavaScript RegExp flag honours for the whole pattern. */
const HONOURED: Readonly<Record<string, string>> = { i: 'i', s: 's' };

/** Why the other Go flags are refused rather than dropped. */
const REFUSED: Readonly<Record<string, string>> = {
  m: "would let ^ and $ match at line breaks, so the pattern would no longer have to match the whole value",
  U: 'ungreedy matching has no JavaScript equivalent',
};

/**
 * A regular expression as cosign and gh take it (Go's RE2 syntax, where `(?i)` at the start
 * makes it case-insensitive) as a JavaScript source and flags. Leading `(?flags)` groups become
 * RegExp flags (`i`, `s`; a `-` clears, which at the start changes nothing); a flag JavaScript
 * cannot honour (`m`, `U`), or an inline flag group anywhere but at the start, is refused with
 * the reason: a pattern is never matched more loosely than written. The anchoring of
 * src/trust/string-match.ts (`^(?:re)$`) is kept either way.
 */
export function fromGoRegexp(pattern: string, flag: string): { source: string; flags: string } {
  const flags = new Set<string>();
  let source = pattern;
  for (let group = /^\(\?([A-Za-z]*(?:-[A-Za-z]*)?)\)/.exec(source); group; group = /^\(\?([A-Za-z]*(?:-[A-Za-z]*)?)\)/.exec(source)) {
    const [set, cleared = ''] = group[1]!.split('-') as [string, string?];
    for (const letter of set + cleared) {
      if (REFUSED[letter]) throw new UsageError(`${flag} ${JSON.stringify(pattern)}: the inline flag (?${letter}) ${REFUSED[letter]}`);
      if (!HONOURED[letter]) throw new UsageError(`${flag} ${JSON.stringify(pattern)}: (?${letter}) is not a flag of Go's regular expressions`);
    }
    for (const letter of set) flags.add(HONOURED[letter]!);
    for (const letter of cleared) flags.delete(HONOURED[letter]!);
    source = source.slice(group[0].length);
  }
  const inner = innerFlagGroup(source);
  if (inner?.endsWith(':')) {
    throw new UsageError(`${flag} ${JSON.stringify(pattern)}: flag groups such as ${inner}...) are not supported: (?flags) at the start of the pattern applies to all of it`);
  }
  if (inner !== undefined) {
    throw new UsageError(`${flag} ${JSON.stringify(pattern)}: inline flags (${inner}) are honoured only at the start of the pattern, where they apply to all of it`);
  }
  return { source, flags: [...flags].sort().join('') };
}

/** The first `(?flags)` or `(?flags:` group outside escapes and character classes, if any. */
function innerFlagGroup(source: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i += 1;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(' && source[i + 1] === '?') {
      const group = /^\(\?[A-Za-z]*(?:-[A-Za-z]*)?[:)]/.exec(source.slice(i));
      if (group && /[A-Za-z]/.test(group[0])) return group[0];
    }
  }
  return undefined;
}
