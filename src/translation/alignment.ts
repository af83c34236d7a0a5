// What a translation's attention gives beyond its text: the alignment the search kept as it wrote each output token
// (the source token it attended to most; an ensemble's attention is its members' mean), the weights when asked, and
// the replacement of each <unk> the model writes by that source token (Luong et al. 2015, "Addressing the Rare Word
// Problem"; OpenNMT's -replace_unk), through a phrase table when one is given.
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
 * The output tokens of a hypothesis (its ids), PAD and GO dropped; with `alignment` (per output position the source
 * token attended to most, Hypothesis.alignment) each <unk> is replaced by that source token, looked up in
 * `phraseTable` (copied as it is when absent there). `replaced` counts the replacements.
 */
export function outputTokens(
  ids: readonly number[],
  vocabulary: Vocabulary,
  alignment: readonly number[] | undefined,
  sourceTokens: readonly string[],
  phraseTable?: ReadonlyMap<string, string>,
): { tokens: string[]; replaced: number } {
  // One token per output position (so that the alignment lines up), PAD and GO dropped afterwards.
  const positions = ids.map((id) => vocabulary.token(id));
  let replaced = 0;
  if (alignment !== undefined) {
    ids.forEach((id, t) => {
      if (id !== UNK) return;
      const word = sourceTokens[alignment[t]!]!;
      positions[t] = phraseTable?.get(word) ?? word;
      replaced++;
    });
  }
  return { tokens: positions.filter((_, t) => ids[t] !== PAD && ids[t] !== GO), replaced };
}

/**
 * A hypothesis's alignment as a translation reports it: per output token (PAD and GO dropped; the EOS prediction
 * after the last token too) the source token it attended to most, and with `weights` (Hypothesis.attention) those
 * rows of attention over the source tokens.
 */
export function alignmentOf(
  ids: readonly number[],
  alignment: readonly number[],
  weights?: readonly ArrayLike<number>[],
): { alignment: number[]; attention?: number[][] } {
  const kept = (t: number) => t < ids.length && ids[t] !== PAD && ids[t] !== GO;
  const out = { alignment: alignment.filter((_, t) => kept(t)) };
  if (weights === undefined) return out;
  return { ...out, attention: weights.filter((_, t) => kept(t)).map((row) => Array.from(row)) };
}
