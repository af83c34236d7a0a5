import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // tfjs keeps one engine per process: files run in separate forks, each picking its backend once.
    pool: 'forks',
    // Test files run two at a time: each takes one core, so the wasm backend starts single-threaded in tests
    // (test/backend/wasmThreads.test.ts checks the threaded build).
    env: { TRANSLATE_WASM_THREADS: '1' },
    // Each test starts after a turn of the event loop, so the worker answers the runner in time (see the file).
    setupFiles: ['test/helpers/eventLoop.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
