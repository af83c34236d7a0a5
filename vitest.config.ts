import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // tfjs keeps one engine per process: files run in separate forks, each picking its backend once.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
