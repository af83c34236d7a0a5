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
export function outputTokens(
  ids: readonly number[],
  vocabulary: Vocabulary,
  weights: readonly ArrayLike<number>[] | undefined,
  sourceTokens: readonly string[],
  phraseTable?: ReadonlyMap<string, string>,
): { tokens: string[]; replaced: number } {
  // One token per output position (so that attention rows line up), PAD and GO dropped afterwards.
  const positions = ids.map((id) => vocabulary.token(id));
  let replaced = 0;
  if (weights !== undefined) {
    ids.forEach((id, t) => {
      if (id !== UNK) return;
      const word = sourceTokens[argMax(weights[t]!)]!;
      positions[t] = phraseTable?.get(word) ?? word;
      replaced++;
    });
  }
  return { tokens: positions.filter((_, t) => ids[t] !== PAD && ids[t] !== GO), replaced };
}

/**
 * The attention rows of a hypothesis's output tokens (PAD and GO dropped; the last row, the EOS prediction, too)
 * and its alignment: per output token, the source position it attended to most.
 */
export function alignmentOf(
  ids: readonly number[],
  weights: readonly ArrayLike<number>[],
): { alignment: number[]; attention: number[][] } {
  // Rows for the output tokens only: the last row is the EOS prediction.
  const kept = (_: unknown, t: number) => ids[t] !== PAD && ids[t] !== GO;
  const attention = weights
    .slice(0, ids.length)
    .filter(kept)
    .map((row) => Array.from(row));
  return { alignment: attention.map(argMax), attention };
}

export function argMax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}
