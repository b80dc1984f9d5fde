import { createRequire } from 'node:module';

/** This package's version, from its package.json (for --version and the User-Agent). */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** What kernelseal calls itself on the network: `kernelseal/<version>; node/<version>`. */
export const USER_AGENT = `kernelseal/${VERSION}; node/${process.versions.node}`;
