import { defineConfig } from 'vitest/config';

/**
 * The long fuzz run (`npm run fuzz`): only the fuzz properties, FUZZ_RUNS cases each (100,000 by
 * default from the npm script), no time limit per property. One worker, so the per-property
 * times it logs are not shared with another file's.
 */
export default defineConfig({
  test: {
    include: ['test/fuzz/**/*.test.ts'],
    testTimeout: 4 * 3_600_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
