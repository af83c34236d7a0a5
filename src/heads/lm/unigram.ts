// The language model's baseline: a unigram model with add-one (Laplace) smoothing,
//
//   P(w) = (count(w) + 1) / (N + V)
//
// over N training tokens and V types, where V counts one extra type, <unk>, that stands for every token unseen in
// training. Perplexity on validation text is exp of the mean negative log-probability per token. By default each
// line also ends with an end-of-sentence token, as the recurrent LM predicts one, so the two perplexities compare.
import { CharTokenizer, WordTokenizer } from '../../data/text/tokenizers.js';
import type { Tokenizer } from '../../data/text/tokenizer.js';
import { perplexity } from '../../metrics/scores.js';
import { ToolkitError } from '../../errors.js';

export const UNIGRAM_EOS = '</s>';
const UNK = '<unk>';

export class UnigramError extends ToolkitError {
  override name = 'UnigramError';
}

export interface UnigramOptions {
  /** 'char' (one token per character, spaces included) or 'word' (the word tokenizer) (default 'char'). */
  level?: 'char' | 'word';
  /** Any other tokenizer (e.g. SentencePiece); overrides `level`. */
  tokenizer?: Tokenizer;
  /** Count an end-of-sentence token after every line (default true). */
  endOfSentence?: boolean;
  /** Lowercase text before tokenizing (default false). */
  lowercase?: boolean;
}

export interface PerplexityResult {
  perplexity: number;
  /** Mean negative log-probability per token, in nats. */
  meanNll: number;
  tokens: number;
  /** Tokens not seen in training (scored as <unk>). */
  unknown: number;
}

export class UnigramModel {
  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly options: Required<Pick<UnigramOptions, 'endOfSentence' | 'lowercase'>>,
    private readonly counts: ReadonlyMap<string, number>,
    /** Training tokens N. */
    readonly total: number,
  ) {}

  static train(lines: Iterable<string>, options: UnigramOptions = {}): UnigramModel {
    const tokenizer = options.tokenizer ?? (options.level === 'word' ? new WordTokenizer() : new CharTokenizer());
    const settings = { endOfSentence: options.endOfSentence ?? true, lowercase: options.lowercase ?? false };
    const model = new UnigramModel(tokenizer, settings, new Map(), 0);
    const counts = new Map<string, number>();
    let total = 0;
    for (const line of lines) {
      for (const t of model.tokens(line)) {
        counts.set(t, (counts.get(t) ?? 0) + 1);
        total++;
      }
    }
    if (total === 0) throw new UnigramError('no training tokens for the unigram model');
    return new UnigramModel(tokenizer, settings, counts, total);
  }

  /** Types V, <unk> included. */
  get types(): number {
    return this.counts.size + 1;
  }

  /** The tokens of one line as the model counts them (end-of-sentence included). */
  tokens(line: string): string[] {
    const tokens = this.tokenizer.tokenize(this.options.lowercase ? line.toLowerCase() : line);
    if (this.options.endOfSentence) tokens.push(UNIGRAM_EOS);
    return tokens;
  }

  /** Smoothed probability of a token (any unseen token has the probability of <unk>). */
  probability(token: string): number {
    const c = token === UNK ? 0 : (this.counts.get(token) ?? 0);
    return (c + 1) / (this.total + this.types);
  }

  perplexity(lines: Iterable<string>): PerplexityResult {
    let nll = 0;
    let tokens = 0;
    let unknown = 0;
    for (const line of lines) {
      for (const t of this.tokens(line)) {
        if (!this.counts.has(t)) unknown++;
        nll -= Math.log(this.probability(t));
        tokens++;
      }
    }
    if (tokens === 0) throw new UnigramError('no tokens to score');
    const meanNll = nll / tokens;
    return { perplexity: perplexity(meanNll), meanNll, tokens, unknown };
  }
}
