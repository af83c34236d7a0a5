// Greedy decoding, batched: every sentence advances one token per step, the most probable one; a sentence stops
// at its first EOS and leaves the decoder batch (decodeStepwise retires finished rows), and decoding stops when all
// have (or at maxLength).
import type { SourceBatch } from '../data/text/batch.js';
import { EOS } from '../data/text/vocabulary.js';
import { decodeStepwise, maxLengths, type Decodable, type Hypothesis, type Stoppable } from './decodable.js';
import { attentionStep, type KeepAttention } from './keptAttention.js';
import { rowTop } from './rowTop.js';

export interface GreedyOptions extends Stoppable {
  /** Limit on output tokens (EOS excluded): one for all sentences, or one per sentence. */
  maxLength: number | ArrayLike<number>;
  /** Output tokens before EOS may be chosen (default 0). */
  minLength?: number;
  /** Keep each hypothesis' alignment (and weights), where the model attends (default: nothing kept). */
  attention?: KeepAttention;
}

/**
 * Returns, per sentence, the output ids without GO and EOS: greedySearch's, without the scores, so that no step
 * sums its row's log-normaliser (an exp of every logit): the most probable token is the largest logit.
 */
export function greedyDecode<M, S>(model: Decodable<M, S>, batch: SourceBatch, options: GreedyOptions): number[][] {
  return greedy(model, batch, options, false).map((h) => h[0]!.ids);
}

/**
 * Greedy decoding that also scores its output, as `search` returns it: per sentence one hypothesis whose logProb
 * sums the chosen tokens' log-probabilities and the final EOS's (forced at maxLength, as beam search does), and whose
 * score is that sum. The same ids as one-beam search, with less bookkeeping: each step reads back four numbers a row
 * (rowTop with one token: the best token, its logit, the row's logsumexp and EOS's logit).
 */
export function greedySearch<M, S>(model: Decodable<M, S>, batch: SourceBatch, options: GreedyOptions): Hypothesis[][] {
  return greedy(model, batch, options, true);
}

/** greedySearch; unless `scored`, logProb and score sum logits (no normaliser) and mean nothing. */
function greedy<M, S>(
  model: Decodable<M, S>,
  batch: SourceBatch,
  options: GreedyOptions,
  scored: boolean,
): Hypothesis[][] {
  const limits = maxLengths(options.maxLength, batch.size);
  const longest = Math.max(0, ...limits);
  const outputs: number[][] = Array.from({ length: batch.size }, () => []);
  const logProb = new Float64Array(batch.size);
  const minLength = options.minLength ?? 0;
  const keep = options.attention;
  if (keep !== undefined && keep.columns.length !== batch.size)
    throw new RangeError(`attention.columns: ${keep.columns.length} sentences for a batch of ${batch.size}`);
  const alignment: number[][] | undefined = keep === undefined ? undefined : outputs.map(() => []);
  const weights: Float32Array[][] | undefined = keep?.weights === true ? outputs.map(() => []) : undefined;
  // A finished sentence's row stays in the batch until enough rows have finished to drop them (shouldRetire).
  const done = new Uint8Array(batch.size);
  decodeStepwise(
    model,
    batch,
    longest + 1,
    (logits, t, sentences, attention, asScores) => {
      const R = sentences.length;
      const A = alignment === undefined ? undefined : (attention?.dataSync() as Float32Array | undefined);
      const width = attention?.shape[1] ?? 0;
      // Before minLength EOS is no candidate; the chosen token's log-prob stays normalised over all tokens.
      const top = rowTop(logits, 1, t < minLength, scored && asScores !== true);
      const ids = new Int32Array(R);
      const live = new Uint8Array(R);
      for (let r = 0; r < R; r++) {
        const b = sentences[r]!;
        ids[r] = top.ids[r]! < 0 ? EOS : top.ids[r]!; // no candidate at all (NaN logits): the sentence ends
        if (done[b]) continue;
        if (A !== undefined) {
          const kept = attentionStep(A, width, r, keep!.columns[b]!, weights !== undefined);
          alignment![b]!.push(kept.best);
          if (kept.weights !== undefined) weights![b]!.push(kept.weights);
        }
        if (t === limits[b]) {
          logProb[b]! += top.eos[r]! - top.logNormaliser[r]!; // out of room: ended with EOS
          done[b] = 1;
        } else {
          logProb[b]! += top.values[r]! - top.logNormaliser[r]!;
          if (ids[r] === EOS) {
            done[b] = 1;
          } else {
            outputs[b]!.push(ids[r]!);
            live[r] = 1;
          }
        }
      }
      return { ids, live };
    },
    { scores: 'logits', attention: keep !== undefined, shouldStop: options.shouldStop },
  );
  return outputs.map((ids, b) => {
    const h: Hypothesis = { ids, logProb: logProb[b]!, score: logProb[b]! };
    // Nothing was kept when the model does not attend.
    if (alignment?.[b]!.length) h.alignment = alignment[b]!;
    if (weights?.[b]!.length) h.attention = weights[b]!;
    return [h];
  });
}
