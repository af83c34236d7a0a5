// Checkpoint averaging: the element-wise mean of several saved weight sets of one architecture (Vaswani et al.
// 2017 averaged the last checkpoints; OpenNMT-py's average_models.py and Marian's average.py do the same). The mean
// of nearby points on the training path usually scores above each of them.
import { ToolkitError } from '../errors.js';
import type { WeightEntry } from './params.js';

export class AverageError extends ToolkitError {
  override name = 'AverageError';
}

/** Averages weight buffers laid out by identical manifests (same names, shapes and offsets, in the same order). */
export function averageWeights(
  parts: readonly { manifest: readonly WeightEntry[]; data: Float32Array; name: string }[],
): Float32Array {
  const first = parts[0];
  if (first === undefined) throw new AverageError('nothing to average');
  const layout = JSON.stringify(first.manifest);
  for (const p of parts.slice(1)) {
    if (JSON.stringify(p.manifest) !== layout || p.data.length !== first.data.length) {
      throw new AverageError(
        `${p.name} has other weights (names, shapes or layout) than ${first.name}: only checkpoints of one model can be averaged`,
      );
    }
  }
  // Summed in float64: averaging many checkpoints in float32 would lose the low bits of each.
  const sum = new Float64Array(first.data.length);
  for (const p of parts) for (let i = 0; i < sum.length; i++) sum[i]! += p.data[i]!;
  return Float32Array.from(sum, (v) => v / parts.length);
}
