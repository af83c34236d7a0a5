// Greedy decoding, batched: every sentence advances one token per step, the most probable one; a sentence stops
// at its first EOS, and the whole batch stops when all have (or at maxLength).
import * as tf from '@tensorflow/tfjs-core';
import type { SourceBatch } from '../data/batch.js';
import { EOS } from '../data/vocabulary.js';
import { decodeStepwise, type Decodable } from './decodable.js';

export interface GreedyOptions {
  /** Limit on output tokens (EOS excluded): one for all sentences, or one per sentence. */
  maxLength: number | ArrayLike<number>;
}

/** The per-sentence limits as an array. */
export function maxLengths(maxLength: number | ArrayLike<number>, size: number): Int32Array {
  return typeof maxLength === 'number' ? new Int32Array(size).fill(maxLength) : Int32Array.from(maxLength);
}

/** Returns, per sentence, the output ids without GO and EOS. */
export function greedyDecode<M, S>(model: Decodable<M, S>, batch: SourceBatch, options: GreedyOptions): number[][] {
  const B = batch.size;
  const limits = maxLengths(options.maxLength, B);
  const longest = Math.max(0, ...limits);
  const outputs: number[][] = Array.from({ length: B }, () => []);
  const done = new Uint8Array(B);
  let remaining = B;
  // The argmax of the logits is the argmax of the log-probabilities: no softmax over the vocabulary per step.
  decodeStepwise(model, batch, longest + 1, (logits, t) => {
    const ids = tf.tidy(() => tf.argMax(logits, 1).dataSync() as Int32Array);
    for (let b = 0; b < B; b++) {
      if (done[b]) continue;
      if (ids[b] === EOS || t === limits[b]) {
        done[b] = 1;
        remaining--;
      } else {
        outputs[b]!.push(ids[b]!);
      }
    }
    return { ids: Int32Array.from(ids), remaining };
  }, 'logits');
  return outputs;
}
