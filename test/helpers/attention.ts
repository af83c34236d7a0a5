import { sourcePositions, type SourceBatch } from '../../src/data/text/batch.js';
import type { KeepAttention } from '../../src/search/keptAttention.js';

/** KeepAttention over every sentence of the batch (sources reversed, makeSourceBatch's default), with or without weights. */
export function keepAll(batch: SourceBatch, weights: boolean, reversed = true): KeepAttention {
  return { columns: Array.from({ length: batch.size }, (_, b) => sourcePositions(batch, b, reversed)), weights };
}
