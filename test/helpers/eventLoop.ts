// Set-up for every test file (vitest.config.ts, setupFiles): before each test the worker's event loop turns, so the
// replies to the runner's calls are read between tests. Vitest's worker gives each call to its runner 60 s
// (a constant, not configurable); tests that compute synchronously back to back never let the loop reach its poll
// phase, and a file of them longer than that fails with "Timeout calling onTaskUpdate" although every test passed.
import { beforeEach } from 'vitest';

const turn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

beforeEach(async () => {
  // Two turns: an immediate queued from the poll phase runs in the same iteration's check phase, one queued from
  // the check phase runs in the next iteration, after its poll phase.
  await turn();
  await turn();
});
