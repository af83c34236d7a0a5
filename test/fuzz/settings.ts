// How hard the fuzz suite tries. In CI every property runs a few dozen to a few hundred cases from a fixed seed
// (the whole suite in seconds, failures reproducible). `npm run fuzz` is the nightly size: FUZZ_FACTOR (default
// 50 there) times as many cases, from a new seed each run; fast-check prints the seed and the shrunk
// counterexample of a failure, and FUZZ_SEED=<seed> replays it.
import type { Parameters } from 'fast-check';

const factor = Number(process.env['FUZZ_FACTOR'] ?? 1);
const nightly = Number.isFinite(factor) && factor > 1;
const seed = process.env['FUZZ_SEED'] !== undefined ? Number(process.env['FUZZ_SEED']) : nightly ? undefined : 24;

/** fast-check parameters for a property that runs `ciRuns` cases in CI. */
export function fuzzRuns(ciRuns: number): Parameters<unknown> {
  return { numRuns: nightly ? Math.round(ciRuns * factor) : ciRuns, ...(seed !== undefined ? { seed } : {}) };
}
