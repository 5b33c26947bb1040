// vitest config of `npm run fuzz` (test/fuzz/long/*.fuzz.ts): one fork with --expose-gc so heap checkpoints are exact.

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/fuzz/long/*.fuzz.ts'],
    pool: 'forks',
    fileParallelism: false,
    execArgv: ['--expose-gc'],
    testTimeout: 600_000,
  },
});
