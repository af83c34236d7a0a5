// The translation model as a user holds it: model + vocabularies + tokenizers, saved to and loaded from one
// directory, translating plain text lines. Every non-empty line gets a translation: source tokens outside the
// vocabulary are reported and read as <unk>, and each <unk> the model writes is replaced by the source token it
// attends to most, through a phrase table when one is given (alignment.ts). Several translators of the same
// vocabularies decode as one ensemble.
import { builtFrom } from '../model/configChecks.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG, type Seq2SeqConfig } from './seq2seq.js';
import {
  saveModelFiles,
  loadModelFiles,
  withSavedWeights,
  ModelFileError,
  type SavedModelJson,
} from '../model/modelFiles.js';
import { Vocabulary, UNK, type VocabularyJson } from '../data/text/vocabulary.js';
import {
  createTokenizer,
  tokenizerConfigFromJSON,
  tokenizerFiles,
  type CreateTokenizerOptions,
} from '../data/text/tokenizers.js';
import { checkTexts, type Tokenizer, type TokenizerConfig } from '../data/text/tokenizer.js';
import type { Decodable, Hypothesis } from '../search/decodable.js';
import {
  searchInBatches,
  outputLimit,
  checkBatchedSearchOptions,
  type AttentionToKeep,
  type BatchedSearchOptions,
} from './batchedSearch.js';
import { Ensemble } from '../search/ensemble.js';
import { ToolkitError } from '../errors.js';
import { averageWeights } from '../model/average.js';
import { outputTokens, alignmentOf } from './alignment.js';

export class EnsembleError extends ToolkitError {
  override name = 'EnsembleError';
}

export interface TranslatorExtra {
  sourceVocabulary: VocabularyJson;
  targetVocabulary: VocabularyJson;
  sourceTokenizer: TokenizerConfig;
  targetTokenizer: TokenizerConfig;
  /** Free-form facts about how the model was made (task, steps, metrics). */
  info?: Record<string, unknown>;
}

export interface TranslateOptions extends BatchedSearchOptions {
  /**
   * Replace each <unk> the model writes by the source token it attends to most (default true; needs attention,
   * models without it keep <unk>).
   */
  replaceUnknown?: boolean;
  /** Source token → target text used by `replaceUnknown` (copied as it is when absent). */
  phraseTable?: ReadonlyMap<string, string>;
  /**
   * Attention for every returned hypothesis: 'best' adds `alignment` (per output token, the source position it
   * attended to most), 'matrix' also `attention` (the weights); 'none' (default) computes neither.
   */
  alignments?: 'none' | 'best' | 'matrix';
}

const ALIGNMENTS: readonly string[] = ['none', 'best', 'matrix'];

/** Throws a RangeError naming the first TranslateOptions value out of range (checkBatchedSearchOptions, alignments). */
export function checkTranslateOptions(options: TranslateOptions): void {
  checkBatchedSearchOptions(options);
  if (options.alignments !== undefined && !ALIGNMENTS.includes(options.alignments))
    throw new RangeError(`alignments must be one of ${ALIGNMENTS.join(', ')}, got ${String(options.alignments)}`);
}

export interface ScoredTranslation {
  text: string;
  /** The ranking score: log-probability divided by the length penalty (the log-probability for greedy). */
  score: number;
  /** Sum of token log-probabilities, EOS included. */
  logProb: number;
  /** The output tokens (unknown ones replaced), before detokenizing. */
  tokens?: string[];
  /** Per output token (EOS excluded), the position in `sourceTokens` it attended to most. */
  alignment?: number[];
  /** Per output token, the attention weights over `sourceTokens` (each row sums to 1). */
  attention?: number[][];
}

export interface Translation {
  /** The best translation (empty for an empty input line). */
  text: string;
  /** The source as the model read it (tokens, in reading order). */
  sourceTokens: string[];
  /** Source tokens that were not in the vocabulary (read as <unk>). */
  unknownTokens: string[];
  /** <unk> tokens of the best translation replaced by source tokens. */
  replacedUnknown: number;
  /** n-best list, best first; empty for an empty input line. */
  nBest: ScoredTranslation[];
}

export class Translator {
  constructor(
    readonly model: Seq2Seq,
    readonly sourceVocabulary: Vocabulary,
    readonly targetVocabulary: Vocabulary,
    readonly sourceTokenizer: Tokenizer,
    readonly targetTokenizer: Tokenizer,
    readonly info: Record<string, unknown> = {},
    /** Models decoding together with `model` (an ensemble; `model` first). */
    readonly members: readonly Seq2Seq[] = [model],
  ) {}

  /**
   * One translator decoding with several models: each step averages their log-probabilities. The models must
   * share vocabularies and tokenizers (checkpoints of one run, or runs on the same data and vocabulary). The
   * ensemble owns the translators' models: dispose the ensemble, not them.
   */
  static ensemble(
    translators: readonly Translator[],
    names: readonly string[] = translators.map((_, i) => `model ${i + 1}`),
  ): Translator {
    const first = Translator.checkShared(translators, names, 'an ensemble');
    return new Translator(
      first.model,
      first.sourceVocabulary,
      first.targetVocabulary,
      first.sourceTokenizer,
      first.targetTokenizer,
      first.info,
      translators.flatMap((t) => t.members),
    );
  }

  /** The first translator, once every other reads and writes text as it does (else an EnsembleError naming it). */
  private static checkShared(translators: readonly Translator[], names: readonly string[], what: string): Translator {
    const first = translators[0];
    if (first === undefined) throw new EnsembleError(`${what} needs at least one model`);
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    translators.forEach((t, i) => {
      if (i === 0) return;
      for (const [kind, a, b] of [
        ['target vocabulary', first.targetVocabulary.tokens, t.targetVocabulary.tokens],
        ['source vocabulary', first.sourceVocabulary.tokens, t.sourceVocabulary.tokens],
        ['source tokenizer', first.sourceTokenizer.toJSON(), t.sourceTokenizer.toJSON()],
        ['target tokenizer', first.targetTokenizer.toJSON(), t.targetTokenizer.toJSON()],
        // The members read one source batch, built once in one order.
        ['source order (reverseSource)', first.model.config.reverseSource, t.model.config.reverseSource],
      ] as const) {
        if (!same(a, b))
          throw new EnsembleError(
            `${names[i]} has another ${kind} than ${names[0]}: ${what}'s models must share vocabularies and tokenizers`,
          );
      }
    });
    return first;
  }

  /**
   * A new translator whose weights are the mean of these translators' (checkpoint averaging). They must be one
   * architecture with the same vocabularies and tokenizers; the new translator has its own copy of the weights.
   */
  static average(
    translators: readonly Translator[],
    names: readonly string[] = translators.map((_, i) => `model ${i + 1}`),
  ): Translator {
    const first = Translator.checkShared(translators, names, 'an average');
    const other = translators.findIndex((t) => JSON.stringify(t.model.config) !== JSON.stringify(first.model.config));
    if (other >= 0)
      throw new EnsembleError(
        `${names[other]} has another model config than ${names[0]}: only checkpoints of one model can be averaged`,
      );
    const parts = translators.map((t, i) => ({ ...t.model.params.serialize(), name: names[i]! }));
    const model = new Seq2Seq(first.model.config, first.sourceVocabulary.size, first.targetVocabulary.size);
    model.params.load(parts[0]!.manifest, averageWeights(parts), 'average');
    return new Translator(
      model,
      first.sourceVocabulary,
      first.targetVocabulary,
      first.sourceTokenizer,
      first.targetTokenizer,
      { ...first.info, averageOf: [...names] },
    );
  }

  /** What search decodes with: the model, or the ensemble of members. */
  get decodable(): Decodable<unknown, unknown> {
    return this.members.length === 1 ? this.model : new Ensemble(this.members);
  }

  static async load(dir: string): Promise<Translator> {
    const { json, data } = await loadModelFiles<Partial<Seq2SeqConfig>, TranslatorExtra>(dir, 'seq2seq');
    return Translator.fromSaved(json, data, `${dir}/model.json`, { directory: dir });
  }

  /**
   * Rebuilds a translator from a model.json and its verified weights, however they were read (file, URL).
   * `files` says where a SentencePiece tokenizer's model file is: the model directory, or the file's bytes.
   */
  static async fromSaved(
    json: SavedModelJson<Partial<Seq2SeqConfig>, TranslatorExtra>,
    data: Float32Array,
    where: string,
    files: CreateTokenizerOptions = {},
  ): Promise<Translator> {
    const e = json.extra;
    if (e === undefined || e === null) throw new ModelFileError(`${where}: missing vocabularies and tokenizers`);
    const sourceVocabulary = Vocabulary.fromJSON(e.sourceVocabulary, `${where} sourceVocabulary`);
    const targetVocabulary = Vocabulary.fromJSON(e.targetVocabulary, `${where} targetVocabulary`);
    const config: Seq2SeqConfig = {
      ...DEFAULT_SEQ2SEQ_CONFIG,
      ...json.config,
      cell: { ...DEFAULT_SEQ2SEQ_CONFIG.cell, ...json.config.cell },
    };
    const options = { expected: json.weights.manifest, source: where };
    const model = builtFrom(where, () => new Seq2Seq(config, sourceVocabulary.size, targetVocabulary.size, options));
    withSavedWeights(model, json, data, where);
    try {
      const sourceTokenizer = await createTokenizer(
        tokenizerConfigFromJSON(e.sourceTokenizer, `${where} sourceTokenizer`),
        files,
      );
      const targetTokenizer = await createTokenizer(
        tokenizerConfigFromJSON(e.targetTokenizer, `${where} targetTokenizer`),
        files,
      );
      return new Translator(model, sourceVocabulary, targetVocabulary, sourceTokenizer, targetTokenizer, e.info ?? {});
    } catch (err) {
      model.dispose();
      throw err;
    }
  }

  /** What model.json holds besides the weights: the kind, the model config and the vocabularies and tokenizers. */
  savedForm(): {
    kind: 'seq2seq';
    config: Seq2SeqConfig;
    extra: TranslatorExtra;
    files: { name: string; bytes: Uint8Array }[];
  } {
    const extra: TranslatorExtra = {
      sourceVocabulary: this.sourceVocabulary.toJSON(),
      targetVocabulary: this.targetVocabulary.toJSON(),
      sourceTokenizer: this.sourceTokenizer.toJSON(),
      targetTokenizer: this.targetTokenizer.toJSON(),
      info: this.info,
    };
    return {
      kind: 'seq2seq',
      config: this.model.config,
      extra,
      files: tokenizerFiles([this.sourceTokenizer, this.targetTokenizer]),
    };
  }

  /** Writes a self-contained model directory: weights, vocabularies, tokenizers and any tokenizer model files. */
  async save(dir: string): Promise<void> {
    const { manifest, data } = this.model.params.serialize();
    const { kind, config, extra, files } = this.savedForm();
    await saveModelFiles(dir, kind, config, manifest, data, extra, { files });
  }

  /** Translates each line: an empty (or all-space) line gives an empty translation, every other line one, whatever words it holds. */
  translate(lines: readonly string[], options: TranslateOptions = {}): Translation[] {
    checkTexts(lines);
    checkTranslateOptions(options);
    const prepared = lines.map((line) => this.prepare(line));
    const work = prepared.flatMap((p, index) => (p.ids === null ? [] : [{ index, ids: p.ids }]));
    // Attention comes from the search itself, which keeps each hypothesis' weights when alignments or <unk>
    // replacement may need them: no second, teacher-forced pass over the outputs.
    const ids = work.map((w) => w.ids);
    const hyps = this.searchIds(ids, options, this.attentionToKeep(options), true);
    work.forEach((w, k) => this.complete(prepared[w.index]!.result, hyps[k]!, options));
    return prepared.map((p) => p.result);
  }

  /** A line read for translation: its Translation so far (source tokens, unknown ones) and its source ids (null when empty). */
  prepare(line: string): { result: Translation; ids: number[] | null } {
    const result: Translation = { text: '', sourceTokens: [], unknownTokens: [], replacedUnknown: 0, nBest: [] };
    const tokens = this.sourceTokenizer.tokenize(line.trim());
    if (tokens.length === 0) return { result, ids: null };
    const ids = this.sourceVocabulary.encode(tokens);
    result.sourceTokens = tokens;
    result.unknownTokens = tokens.filter((_, i) => ids[i] === UNK);
    return { result, ids };
  }

  /**
   * What the search must keep of attention for these options, where the model attends: the weights for 'matrix'
   * alignments, else each token's most attended source token for alignments or <unk> replacement, else nothing.
   */
  attentionToKeep(options: TranslateOptions): AttentionToKeep {
    const alignments = options.alignments ?? 'none';
    if (!this.hasAttention) return 'none';
    if (alignments === 'matrix') return 'weights';
    return alignments !== 'none' || (options.replaceUnknown ?? true) ? 'alignment' : 'none';
  }

  /**
   * Fills a prepared line's translation from its search's n-best list (searched keeping attentionToKeep(options)):
   * output tokens (<unk> replaced), text, scores and alignments.
   */
  complete(result: Translation, hyps: readonly Hypothesis[], options: TranslateOptions): void {
    const alignments = options.alignments ?? 'none';
    const replace = options.replaceUnknown ?? true;
    result.nBest = hyps.map((h, j) => {
      const { tokens, replaced } = outputTokens(
        h.ids,
        this.targetVocabulary,
        replace ? h.alignment : undefined,
        result.sourceTokens,
        options.phraseTable,
      );
      if (j === 0) result.replacedUnknown = replaced;
      const out: ScoredTranslation = {
        text: this.targetTokenizer.detokenize(tokens),
        score: h.score,
        logProb: h.logProb,
        tokens,
      };
      if (alignments !== 'none' && h.alignment !== undefined) {
        const { alignment, attention } = alignmentOf(
          h.ids,
          h.alignment,
          alignments === 'matrix' ? h.attention : undefined,
        );
        out.alignment = alignment;
        if (attention !== undefined) out.attention = attention;
      }
      return out;
    });
    result.text = result.nBest[0]?.text ?? '';
  }

  /**
   * Translates source id sequences (already tokenized and encoded, e.g. a validation set) into detokenized n-best
   * lists, in input order. An empty sequence gets an empty list. No unknown-word replacement: the model's own output.
   */
  translateIds(sources: readonly (readonly number[])[], options: TranslateOptions = {}): ScoredTranslation[][] {
    return this.searchIds(sources, options, 'none', true).map((list) =>
      list.map((h) => ({
        text: this.targetTokenizer.detokenize(this.targetVocabulary.decode(h.ids)),
        score: h.score,
        logProb: h.logProb,
      })),
    );
  }

  /**
   * The best translation's text of each source id sequence, as translateIds gives it ('' for an empty sequence),
   * without scores: greedy decoding (beamSize 1) then skips each step's log-normaliser. What validation decodes.
   */
  translateIdsText(sources: readonly (readonly number[])[], options: TranslateOptions = {}): string[] {
    return this.searchIds(sources, options, 'none', false).map((list) =>
      list[0] === undefined ? '' : this.targetTokenizer.detokenize(this.targetVocabulary.decode(list[0].ids)),
    );
  }

  /** searchInBatches with this translator's model or ensemble. */
  private searchIds(
    sources: readonly (readonly number[])[],
    options: TranslateOptions,
    attention: AttentionToKeep,
    scored: boolean,
  ): Hypothesis[][] {
    return searchInBatches(this.decodable, sources, options, this.model.config.reverseSource, attention, scored);
  }

  /** A source's output length limit: ratio × its tokens + margin. */
  maxLength(sourceTokens: number, options: TranslateOptions): number {
    return outputLimit(sourceTokens, options);
  }

  private get hasAttention(): boolean {
    return this.members.every((m) => m.config.attention !== 'none');
  }

  dispose(): void {
    for (const m of this.members) m.dispose();
  }
}
