// Token ↔ id mapping with four reserved ids, built from training data and saved beside the model.
//
//   0 <pad>  padding; never a real symbol (the original number-words exercise padded targets with the id of '0': we do not)
//   1 <go>   first decoder input (GO)
//   2 <eos>  end of sequence, the last decoder target
//   3 <unk>  any token not in the vocabulary

import { ToolkitError } from '../../errors.js';

export const PAD = 0;
export const GO = 1;
export const EOS = 2;
export const UNK = 3;
export const SPECIAL_TOKENS = ['<pad>', '<go>', '<eos>', '<unk>'] as const;

export interface VocabularyOptions {
  /** Keep at most this many tokens, specials included (default: no limit). */
  maxSize?: number;
  /** Drop tokens seen fewer times than this in training data (default 1: keep all). */
  minCount?: number;
}

export interface VocabularyJson {
  format: 'seq2seq-ts/vocabulary@1';
  tokens: string[];
}

export class VocabularyError extends ToolkitError {
  override name = 'VocabularyError';
}

export class Vocabulary {
  readonly tokens: readonly string[];
  private readonly index: Map<string, number>;

  /** `tokens` lists the non-special tokens in id order (ids start at 4). */
  constructor(tokens: Iterable<string>) {
    const all: string[] = [...SPECIAL_TOKENS];
    const index = new Map<string, number>(all.map((t, i) => [t, i]));
    for (const t of tokens) {
      if (index.has(t)) continue;
      index.set(t, all.length);
      all.push(t);
    }
    this.tokens = all;
    this.index = index;
  }

  /** Builds from token sequences: most frequent first, ties broken by code point order (deterministic). */
  static build(sequences: Iterable<readonly string[]>, options: VocabularyOptions = {}): Vocabulary {
    const counts = new Map<string, number>();
    for (const seq of sequences) for (const t of seq) counts.set(t, (counts.get(t) ?? 0) + 1);
    return Vocabulary.fromCounts(counts, options);
  }

  static fromCounts(counts: ReadonlyMap<string, number>, options: VocabularyOptions = {}): Vocabulary {
    const minCount = options.minCount ?? 1;
    const maxSize = options.maxSize ?? Infinity;
    if (maxSize < SPECIAL_TOKENS.length)
      throw new VocabularyError(`maxSize ${maxSize} leaves no room for the ${SPECIAL_TOKENS.length} reserved tokens`);
    const special = new Set<string>(SPECIAL_TOKENS);
    const kept = [...counts.entries()]
      .filter(([t, c]) => c >= minCount && !special.has(t))
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, maxSize - SPECIAL_TOKENS.length)
      .map(([t]) => t);
    return new Vocabulary(kept);
  }

  get size(): number {
    return this.tokens.length;
  }

  has(token: string): boolean {
    return this.index.has(token);
  }

  id(token: string): number {
    return this.index.get(token) ?? UNK;
  }

  token(id: number): string {
    const t = this.tokens[id];
    if (t === undefined) throw new VocabularyError(`id ${id} is outside the vocabulary (size ${this.size})`);
    return t;
  }

  encode(tokens: readonly string[]): number[] {
    return tokens.map((t) => this.id(t));
  }

  /** Decodes ids, stopping at the first EOS and skipping PAD and GO. */
  decode(ids: ArrayLike<number>): string[] {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id === EOS) break;
      if (id === PAD || id === GO) continue;
      out.push(this.token(id));
    }
    return out;
  }

  /** Share of tokens in `sequences` that map to UNK. */
  unkRate(sequences: Iterable<readonly string[]>): { unknown: number; total: number; rate: number } {
    let unknown = 0;
    let total = 0;
    for (const seq of sequences) {
      for (const t of seq) {
        total++;
        if (!this.index.has(t)) unknown++;
      }
    }
    return { unknown, total, rate: total === 0 ? 0 : unknown / total };
  }

  toJSON(): VocabularyJson {
    return { format: 'seq2seq-ts/vocabulary@1', tokens: this.tokens.slice(SPECIAL_TOKENS.length) };
  }

  static fromJSON(json: unknown, source = 'vocabulary'): Vocabulary {
    const j = json as Partial<VocabularyJson> | null;
    if (j === null || typeof j !== 'object' || j.format !== 'seq2seq-ts/vocabulary@1' || !Array.isArray(j.tokens)) {
      throw new VocabularyError(
        `${source}: not a seq2seq-ts vocabulary (expected {"format":"seq2seq-ts/vocabulary@1","tokens":[...]})`,
      );
    }
    if (!j.tokens.every((t) => typeof t === 'string')) throw new VocabularyError(`${source}: tokens must be strings`);
    return new Vocabulary(j.tokens);
  }
}
