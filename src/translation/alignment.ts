// What a translation's attention gives beyond its text: the attention each output token was written with
// (kept by the search as it wrote it, averaged over an ensemble's members), the alignment read from it (per
// output token, the source position attended to most), and the replacement of each <unk> the model writes by that
// source token (Luong et al. 2015, "Addressing the Rare Word Problem"; OpenNMT's -replace_unk), through a phrase
// table when one is given.
import { type Vocabulary, UNK, PAD, GO } from '../data/text/vocabulary.js';
import { ToolkitError } from '../errors.js';

/** Reads a phrase table: one `source ||| target` or `source<TAB>target` pair a line (the first entry wins). */
export function parsePhraseTable(text: string, where = 'phrase table'): Map<string, string> {
  const table = new Map<string, string>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim().length === 0) return;
    const parts = line.includes('|||') ? line.split('|||') : line.split('\t');
    if (parts.length !== 2 || parts[0]!.trim().length === 0)
      throw new ToolkitError(`${where}:${i + 1}: expected "source ||| target" or "source<TAB>target"`);
    const source = parts[0]!.trim();
    if (!table.has(source)) table.set(source, parts[1]!.trim());
  });
  return table;
}

/**
 * The output tokens of a hypothesis (its ids), PAD and GO dropped; with `weights` (its attention rows) each <unk> is
 * replaced by the source token it attended to most, looked up in `phraseTable` (copied as it is when absent there).
 * `replaced` counts the replacements.
 */
/**
 * A hypothesis' attention as the search kept it: row t over the source batch's steps, `columns[j]` the step of source
 * token j (sourcePositions), so token j's weight in row t is rows[t][columns[j]]. Nothing is copied until a matrix
 * is asked for.
 */
export interface AttentionRows {
  rows: readonly ArrayLike<number>[];
  columns: readonly number[];
}

export function outputTokens(
  ids: readonly number[],
  vocabulary: Vocabulary,
  attention: AttentionRows | undefined,
  sourceTokens: readonly string[],
  phraseTable?: ReadonlyMap<string, string>,
): { tokens: string[]; replaced: number } {
  // One token per output position (so that attention rows line up), PAD and GO dropped afterwards.
  const positions = ids.map((id) => vocabulary.token(id));
  let replaced = 0;
  if (attention !== undefined) {
    ids.forEach((id, t) => {
      if (id !== UNK) return;
      const word = sourceTokens[argMax(attention.rows[t]!, attention.columns)]!;
      positions[t] = phraseTable?.get(word) ?? word;
      replaced++;
    });
  }
  return { tokens: positions.filter((_, t) => ids[t] !== PAD && ids[t] !== GO), replaced };
}

/**
 * A hypothesis's alignment, per output token (PAD and GO dropped; the last row, the EOS prediction, too) the
 * source token it attended to most, and with `matrix` those rows of attention over the source tokens.
 */
export function alignmentOf(
  ids: readonly number[],
  attention: AttentionRows,
  matrix = true,
): { alignment: number[]; attention?: number[][] } {
  const kept = attention.rows.slice(0, ids.length).filter((_, t) => ids[t] !== PAD && ids[t] !== GO);
  const alignment = kept.map((row) => argMax(row, attention.columns));
  if (!matrix) return { alignment };
  return { alignment, attention: kept.map((row) => attention.columns.map((c) => row[c]!)) };
}

/** The first j with the largest row[columns[j]] (row[j] without columns). */
export function argMax(row: ArrayLike<number>, columns?: readonly number[]): number {
  const at = (j: number) => row[columns === undefined ? j : columns[j]!]!;
  const n = columns === undefined ? row.length : columns.length;
  let best = 0;
  for (let j = 1; j < n; j++) if (at(j) > at(best)) best = j;
  return best;
}
