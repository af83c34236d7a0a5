// The synthetic forecasting task of the RNN chapter of Géron's "Hands-On Machine Learning": each series is two sines of
// random frequency and phase plus uniform noise,
//
//   freq1, freq2, offsets1, offsets2 ~ U[0, 1)       (one of each per series)
//   time   = linspace(0, 1, n_steps)
//   series = 0.5·sin((time − offsets1)·(freq1·10 + 10)) + 0.2·sin((time − offsets2)·(freq2·20 + 20)) + 0.1·(U[0, 1) − 0.5)
//
// drawn in NumPy's order (all freq1, then all freq2, offsets1, offsets2, then the noise series by series) from the
// project's Rng, so the numbers differ from NumPy's but the distribution is the same. The book's code generates
// `steps + ahead` values per series — the time grid spans all of them — and read the first `steps` as input.
import { Rng } from '../../random.js';
import { ToolkitError } from '../../errors.js';
import { makeWindows, type WindowExample } from './timeSeries.js';
import type { Split } from '../split.js';

/** `batchSize` series of `nSteps` values each (float32, as the book's `.astype(np.float32)`). */
export function generateTimeSeries(batchSize: number, nSteps: number, rng: Rng): Float32Array[] {
  if (!Number.isInteger(batchSize) || batchSize < 0)
    throw new ToolkitError(`batchSize must be a whole number, got ${batchSize}`);
  if (!Number.isInteger(nSteps) || nSteps < 1)
    throw new ToolkitError(`nSteps must be a whole number ≥ 1, got ${nSteps}`);
  const draw = () => Float64Array.from({ length: batchSize }, () => rng.next());
  const freq1 = draw();
  const freq2 = draw();
  const offsets1 = draw();
  const offsets2 = draw();
  // NumPy's linspace(0, 1, 1) is [0]; avoid 0/0 for a one-step series.
  const time = Float64Array.from({ length: nSteps }, (_, t) => (nSteps === 1 ? 0 : t / (nSteps - 1)));
  return Array.from({ length: batchSize }, (_, b) =>
    Float32Array.from(time, (x) => {
      const wave1 = 0.5 * Math.sin((x - offsets1[b]!) * (freq1[b]! * 10 + 10));
      const wave2 = 0.2 * Math.sin((x - offsets2[b]!) * (freq2[b]! * 20 + 20));
      return wave1 + wave2 + 0.1 * (rng.next() - 0.5);
    }),
  );
}

export interface SinesOptions {
  /** Input steps per series (default 50). */
  steps?: number;
  /** Values after the input to predict, k (default 1; the book's multi-step task uses 10). */
  ahead?: number;
  /** Series in train, valid and test, in generation order (default [7000, 2000, 1000]). */
  sizes?: readonly [number, number, number];
  /** 'vector': target = the k values after the last input step; 'sequence': the k values after every step (default 'vector'). */
  mode?: 'vector' | 'sequence';
  /** Seed of the Rng (default 1). */
  seed?: number;
}

/** The book's split: series generated once, then the first 7,000 train, the next 2,000 valid, the last 1,000 test. */
export function sinesDataset(options: SinesOptions = {}): Split<WindowExample> {
  const steps = options.steps ?? 50;
  const ahead = options.ahead ?? 1;
  const [nTrain, nValid, nTest] = options.sizes ?? [7000, 2000, 1000];
  const all = generateTimeSeries(nTrain + nValid + nTest, steps + ahead, new Rng(options.seed ?? 1));
  // One window per series: the whole series is the window plus its k known successors.
  const examples = all.map(
    (series) => makeWindows([series], { window: steps, horizon: ahead, mode: options.mode ?? 'vector' })[0]!,
  );
  return {
    train: examples.slice(0, nTrain),
    valid: examples.slice(nTrain, nTrain + nValid),
    test: examples.slice(nTrain + nValid),
  };
}
