// How hard the fuzz suite tries. In CI every property runs a few dozen to a few hundred cases from a fixed seed
// (the whole suite within a minute, failures reproducible); `npm run fuzz` sets FUZZ_RUNS for nightly-sized runs
// and draws a new seed each time (fast-check prints the seed and the shrunk counterexample of a failure; rerun it
// with FUZZ_SEED=<seed>).
import type { Parameters } from 'fast-check';

const nightly = Number(process.env['FUZZ_RUNS']);
const seed = process.env['FUZZ_SEED'] !== undefined ? Number(process.env['FUZZ_SEED']) : Number.isInteger(nightly) && nightly > 0 ? undefined : 24;

/** fast-check parameters for a property that runs `ciRuns` cases in CI. */
export function fuzzRuns(ciRuns: number): Parameters<unknown> {
  const numRuns = Number.isInteger(nightly) && nightly > 0 ? Math.max(ciRuns, Math.round((nightly * ciRuns) / 100)) : ciRuns;
  return { numRuns, ...(seed !== undefined ? { seed } : {}) };
}
