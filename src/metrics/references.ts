// Reference streams in, one list of references per sentence out. Both BLEU and chrF take references the
// way sacreBLEU does, stream-major (references[k][i] is the k-th reference of sentence i), and score per
// sentence. sacreBLEU zips the streams and silently drops sentences when lengths differ; we refuse instead.

import { ToolkitError } from '../errors.js';

/** Mis-shaped metric input or options: a user error (e.g. reference files of different lengths), not a bug. */
export class MetricInputError extends ToolkitError {
  override name = 'MetricInputError';
}

/** Checks the shapes and returns `bySentence[i][k]` = references[k][i]. */
export function referencesBySentence(
  hypotheses: readonly string[],
  references: readonly (readonly string[])[],
): string[][] {
  if (references.length === 0) {
    throw new MetricInputError(
      'need at least one reference stream: references[k][i] is the k-th reference of sentence i',
    );
  }
  references.forEach((stream, k) => {
    if (stream.length !== hypotheses.length) {
      throw new MetricInputError(
        `reference stream ${k} has ${stream.length} sentences but there are ${hypotheses.length} hypotheses ` +
          '(references[k][i] is the k-th reference of sentence i; every stream needs one entry per hypothesis)',
      );
    }
  });
  return hypotheses.map((_, i) => references.map((stream) => stream[i]!));
}
