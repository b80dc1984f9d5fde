import { defineConfig } from 'vitest/config';

// Tests import the built package (dist/, the addon at the root): what users get.
// `npm test` builds both first (scripts/setup.sh).
export default defineConfig({
  test: {
    include: ['__test__/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    setupFiles: ['__test__/helpers/private-state.ts'],
  },
});
