// Which Node.js versions kernelseal runs on: package.json's "engines" field, the one place
// they are stated (the README and this check quote it). Plain JavaScript with no imports, so it
// runs before anything that needs a supported Node.js is loaded.
import { readFileSync } from 'node:fs';

/** The supported range, e.g. "^22.22.2 || ^24.15.0 || >=26.0.0". */
export const SUPPORTED_NODE = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines.node;

/**
 * Whether `version` ("24.15.0", "v22.22.2") satisfies `range`: alternatives joined by `||`,
 * each `^X.Y.Z` (the same major, at least X.Y.Z) or `>=X.Y.Z`. Any other form is refused, so that
 * a range this cannot read is noticed (its test fails) rather than waved through.
 */
export function supportsNode(version, range = SUPPORTED_NODE) {
  const have = parse(version);
  return range.split('||').some((part) => {
    const match = /^\s*(\^|>=)\s*(\d+\.\d+\.\d+)\s*$/.exec(part);
    if (!match) throw new Error(`engines.node: cannot read ${JSON.stringify(part.trim())}`);
    const want = parse(match[2]);
    return (match[1] === '>=' || have[0] === want[0]) && compare(have, want) >= 0;
  });
}

function parse(version) {
  return version.replace(/^v/, '').split('.').map(Number);
}

function compare(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}
