// Greedy decoding, batched: every sentence advances one token per step, the most probable one; a sentence stops
// at its first EOS and leaves the decoder batch (decodeStepwise retires finished rows), and decoding stops when all
// have (or at maxLength).
import * as tf from '@tensorflow/tfjs-core';
import type { SourceBatch } from '../data/text/batch.js';
import { EOS, PAD, GO } from '../data/text/vocabulary.js';
import { decodeStepwise, maxLengths, type Decodable, type Hypothesis } from './decodable.js';

export interface GreedyOptions {
  /** Limit on output tokens (EOS excluded): one for all sentences, or one per sentence. */
  maxLength: number | ArrayLike<number>;
  /** Output tokens before EOS may be chosen (default 0). */
  minLength?: number;
}

/** Returns, per sentence, the output ids without GO and EOS (greedySearch's, without the scores). */
export function greedyDecode<M, S>(model: Decodable<M, S>, batch: SourceBatch, options: GreedyOptions): number[][] {
  return greedySearch(model, batch, options).map((h) => h[0]!.ids);
}

/**
 * Greedy decoding that also scores its output, as `search` returns it: per sentence one hypothesis whose logProb
 * sums the chosen tokens' log-probabilities and the final EOS's (forced at maxLength, as beam search does), and whose
 * score is that sum. The same ids as one-beam search, without its per-step read-back of [batch, vocab] log-probs
 * and host top-k: each step reads back three numbers a row (argmax, its log-prob, EOS's log-prob).
 */
export function greedySearch<M, S>(model: Decodable<M, S>, batch: SourceBatch, options: GreedyOptions): Hypothesis[][] {
  const limits = maxLengths(options.maxLength, batch.size);
  const longest = Math.max(0, ...limits);
  const outputs: number[][] = Array.from({ length: batch.size }, () => []);
  const logProb = new Float64Array(batch.size);
  const minLength = options.minLength ?? 0;
  const barrier = new Barriers();
  // A finished sentence's row stays in the batch until enough rows have finished to drop them (shouldRetire).
  const done = new Uint8Array(batch.size);
  try {
    decodeStepwise(model, batch, longest + 1, (logProbs, t, sentences) => {
      const R = sentences.length;
      const [ids, stats] = tf.tidy(() => {
        // Before minLength EOS is no candidate; the chosen token's log-prob stays normalised over all tokens.
        const candidates = tf.add(logProbs, barrier.get(logProbs.shape[1], t < minLength));
        const eos = tf.reshape(tf.slice(logProbs, [0, EOS], [R, 1]), [R]);
        return [
          Int32Array.from(tf.argMax(candidates, 1).dataSync()),
          tf.stack([tf.max(candidates, 1), eos]).dataSync() as Float32Array,
        ];
      });
      const live = new Uint8Array(R);
      for (let r = 0; r < R; r++) {
        const b = sentences[r]!;
        if (done[b]) continue;
        if (t === limits[b]) {
          logProb[b]! += stats[R + r]!; // out of room: ended with EOS
          done[b] = 1;
        } else {
          logProb[b]! += stats[r]!;
          if (ids[r] === EOS) {
            done[b] = 1;
          } else {
            outputs[b]!.push(ids[r]!);
            live[r] = 1;
          }
        }
      }
      return { ids, live };
    });
  } finally {
    barrier.dispose();
  }
  return outputs.map((ids, b) => [{ ids, logProb: logProb[b]!, score: logProb[b]! }]);
}

/**
 * Rows added to the logits before choosing: −∞ at PAD and GO, which are never outputs (an untrained model may
 * still rank them first), and at EOS while the output is shorter than minLength.
 */
class Barriers {
  private readonly rows = new Map<string, tf.Tensor1D>();

  get(V: number, noEos: boolean): tf.Tensor1D {
    const key = `${V}/${noEos}`;
    let row = this.rows.get(key);
    if (row === undefined) {
      const values = new Float32Array(V);
      values[PAD] = values[GO] = -Infinity;
      if (noEos) values[EOS] = -Infinity;
      row = tf.keep(tf.tensor1d(values));
      this.rows.set(key, row);
    }
    return row;
  }

  dispose(): void {
    for (const row of this.rows.values()) row.dispose();
  }
}
