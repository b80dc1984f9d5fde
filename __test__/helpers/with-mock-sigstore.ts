import { afterAll, beforeAll } from 'vitest';
import { startMockSigstore, type MockSigstore } from './mock-sigstore.ts';
import { DIST } from './package.js';

// Kept apart from mock-sigstore.ts, which must stay free of test-runner imports (scripts/sign-example.ts runs it).
const ks = (await import(DIST)) as typeof import('../../dist/index.js');

export interface MockSigstoreSuite extends MockSigstore {
  /** The mock's trusted root as the library takes it (`parseTrustedRoot` of `trustedRoot`). */
  parsedRoot: ReturnType<typeof ks.parseTrustedRoot>;
}

/**
 * The mock Sigstore services for the tests of the suite that calls this (a file, or a describe
 * block): started before them, closed after. The object returned is filled in when they start,
 * so read its fields inside hooks and tests only.
 */
export function withMockSigstore(): MockSigstoreSuite {
  const suite = {} as MockSigstoreSuite;
  beforeAll(async () => {
    const sigstore = await startMockSigstore();
    Object.assign(suite, sigstore, { parsedRoot: ks.parseTrustedRoot(sigstore.trustedRoot, 'mock') });
  });
  afterAll(() => suite.close?.());
  return suite;
}
