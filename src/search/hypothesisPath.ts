// A beam hypothesis as beam search grows it: a chain of tokens back to GO, so that extending one copies nothing and
// the hypotheses that share a prefix share its links; read out as a Hypothesis when it ends.
import type { Hypothesis } from './decodable.js';
import type { AttentionStep } from './keptAttention.js';

/**
 * A hypothesis' output tokens as a chain back to GO (null: no token yet): extending it makes one link, and the
 * hypotheses that share a prefix share its links. With each token, what attention kept when it was predicted.
 */
export interface Path {
  token: number;
  attention: AttentionStep | undefined;
  parent: Path | null;
  length: number;
}

/** The path one token longer, predicted with `attention`. */
export function extendPath(path: Path | null, token: number, attention: AttentionStep | undefined): Path {
  return { token, attention, parent: path, length: (path?.length ?? 0) + 1 };
}

/** The hypothesis of a path ended by EOS (predicted with attention `eos`), log-prob `logProb`; its score is set by the caller. */
export function hypothesisOf(path: Path | null, eos: AttentionStep | undefined, logProb: number): Hypothesis {
  const n = path?.length ?? 0;
  const ids = new Array<number>(n);
  const h: Hypothesis = { ids, logProb, score: logProb };
  if (eos === undefined) {
    for (let p = path, i = n - 1; p !== null; p = p.parent, i--) ids[i] = p.token;
    return h;
  }
  const alignment = new Array<number>(n + 1);
  const weights = eos.weights === undefined ? undefined : new Array<Float32Array>(n + 1);
  alignment[n] = eos.best;
  if (weights !== undefined) weights[n] = eos.weights!;
  for (let p = path, i = n - 1; p !== null; p = p.parent, i--) {
    ids[i] = p.token;
    alignment[i] = p.attention!.best;
    if (weights !== undefined) weights[i] = p.attention!.weights!;
  }
  h.alignment = alignment;
  if (weights !== undefined) h.attention = weights;
  return h;
}
