// The translation model as a user holds it: model + vocabularies + tokenizers, saved to and loaded from one
// directory, translating plain text lines.
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG, type Seq2SeqConfig } from './model/seq2seq.js';
import { saveModelFiles, loadModelFiles, ModelFileError, type SavedModelJson } from './model/checkpoint.js';
import { Vocabulary, UNK, type VocabularyJson } from './data/vocabulary.js';
import { createTokenizer, tokenizerConfigFromJSON, tokenizerFiles, type Tokenizer, type TokenizerConfig } from './data/tokenizers.js';
import { makeSourceBatch } from './data/batch.js';
import { search } from './search/search.js';
import { DEFAULT_LENGTH_PENALTY } from './search/beam.js';

export interface TranslatorExtra {
  sourceVocabulary: VocabularyJson;
  targetVocabulary: VocabularyJson;
  sourceTokenizer: TokenizerConfig;
  targetTokenizer: TokenizerConfig;
  /** Free-form facts about how the model was made (task, steps, metrics). */
  info?: Record<string, unknown>;
}

export interface TranslateOptions {
  /** Sentences per batch (default 64). */
  batchSize?: number;
  /** Output length limit: ratio × source tokens + margin (defaults 2 and 10). */
  maxLengthRatio?: number;
  maxLengthMargin?: number;
  /** Beam size K; 1 (default) is greedy decoding. */
  beamSize?: number;
  /** GNMT length penalty α for beam search (default 0.6). */
  lengthPenalty?: number;
  /** Hypotheses returned per sentence, best first (default 1; at most the beam size). */
  nBest?: number;
}

export interface ScoredTranslation {
  text: string;
  /** The ranking score: log-probability divided by the length penalty (the log-probability for greedy). */
  score: number;
  /** Sum of token log-probabilities, EOS included. */
  logProb: number;
}

export interface Translation {
  /** The best translation (empty for an empty input line). */
  text: string;
  /** Source tokens that were not in the vocabulary (translated as <unk>). */
  unknownTokens: string[];
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
  ) {}

  static async load(dir: string): Promise<Translator> {
    const { json, data } = await loadModelFiles<Partial<Seq2SeqConfig>, TranslatorExtra>(dir, 'seq2seq');
    return Translator.fromSaved(json, data, `${dir}/model.json`, dir);
  }

  /**
   * Rebuilds a translator from a model.json and its verified weights, however they were read (file, URL).
   * `directory` is the model directory, where a SentencePiece tokenizer's model file is (and must be).
   */
  static async fromSaved(json: SavedModelJson<Partial<Seq2SeqConfig>, TranslatorExtra>, data: Float32Array, where: string, directory?: string): Promise<Translator> {
    const e = json.extra;
    if (e === undefined || e === null) throw new ModelFileError(`${where}: missing vocabularies and tokenizers`);
    const sourceVocabulary = Vocabulary.fromJSON(e.sourceVocabulary, `${where} sourceVocabulary`);
    const targetVocabulary = Vocabulary.fromJSON(e.targetVocabulary, `${where} targetVocabulary`);
    const config: Seq2SeqConfig = { ...DEFAULT_SEQ2SEQ_CONFIG, ...json.config, cell: { ...DEFAULT_SEQ2SEQ_CONFIG.cell, ...json.config.cell } };
    const model = new Seq2Seq(config, sourceVocabulary.size, targetVocabulary.size);
    try {
      model.params.load(json.weights.manifest, data, where);
    } catch (err) {
      model.dispose();
      throw err;
    }
    try {
      const files = directory === undefined ? {} : { directory };
      const sourceTokenizer = await createTokenizer(tokenizerConfigFromJSON(e.sourceTokenizer, `${where} sourceTokenizer`), files);
      const targetTokenizer = await createTokenizer(tokenizerConfigFromJSON(e.targetTokenizer, `${where} targetTokenizer`), files);
      return new Translator(model, sourceVocabulary, targetVocabulary, sourceTokenizer, targetTokenizer, e.info ?? {});
    } catch (err) {
      model.dispose();
      throw err;
    }
  }

  /** What model.json holds besides the weights: the kind, the model config and the vocabularies and tokenizers. */
  savedForm(): { kind: 'seq2seq'; config: Seq2SeqConfig; extra: TranslatorExtra; files: { name: string; bytes: Uint8Array }[] } {
    const extra: TranslatorExtra = {
      sourceVocabulary: this.sourceVocabulary.toJSON(),
      targetVocabulary: this.targetVocabulary.toJSON(),
      sourceTokenizer: this.sourceTokenizer.toJSON(),
      targetTokenizer: this.targetTokenizer.toJSON(),
      info: this.info,
    };
    return { kind: 'seq2seq', config: this.model.config, extra, files: tokenizerFiles([this.sourceTokenizer, this.targetTokenizer]) };
  }

  /** Writes a self-contained model directory: weights, vocabularies, tokenizers and any tokenizer model files. */
  async save(dir: string): Promise<void> {
    const { manifest, data } = this.model.params.serialize();
    const { kind, config, extra, files } = this.savedForm();
    await saveModelFiles(dir, kind, config, manifest, data, extra, { files });
  }

  /** Translates each line; an empty (or all-space) line gives an empty translation. */
  translate(lines: readonly string[], options: TranslateOptions = {}): Translation[] {
    const results: Translation[] = lines.map(() => ({ text: '', unknownTokens: [], nBest: [] }));
    const work: { index: number; ids: number[] }[] = [];
    lines.forEach((line, index) => {
      const tokens = this.sourceTokenizer.tokenize(line.trim());
      if (tokens.length === 0) return;
      const ids = this.sourceVocabulary.encode(tokens);
      results[index]!.unknownTokens = tokens.filter((_, i) => ids[i] === UNK);
      work.push({ index, ids });
    });
    const outs = this.translateIds(work.map((w) => w.ids), options);
    work.forEach((w, k) => {
      const r = results[w.index]!;
      r.nBest = outs[k]!;
      r.text = r.nBest[0]?.text ?? '';
    });
    return results;
  }

  /**
   * Translates source id sequences (already tokenized and encoded, e.g. a validation set) into detokenized n-best
   * lists, in input order. An empty sequence gets an empty list.
   */
  translateIds(sources: readonly (readonly number[])[], options: TranslateOptions = {}): ScoredTranslation[][] {
    const batchSize = options.batchSize ?? 64;
    const ratio = options.maxLengthRatio ?? 2;
    const margin = options.maxLengthMargin ?? 10;
    const beamSize = options.beamSize ?? 1;
    const nBest = options.nBest ?? 1;
    const results: ScoredTranslation[][] = sources.map(() => []);
    // Sorting by length keeps padding low inside each batch; results go back to their input positions.
    const order = sources.map((_, i) => i).filter((i) => sources[i]!.length > 0).sort((a, b) => sources[a]!.length - sources[b]!.length);
    for (let i = 0; i < order.length; i += batchSize) {
      const chunk = order.slice(i, i + batchSize);
      const batch = makeSourceBatch(chunk.map((j) => sources[j]!), { reverseSource: this.model.config.reverseSource });
      // Each sentence's own limit, so that a translation does not depend on its batch-mates.
      const maxLength = chunk.map((j) => Math.ceil(ratio * sources[j]!.length) + margin);
      const outs =
        beamSize === 1 && nBest === 1
          ? search(this.model, batch, { method: 'greedy', maxLength })
          : search(this.model, batch, { method: 'beam', beamSize, nBest, lengthPenalty: options.lengthPenalty ?? DEFAULT_LENGTH_PENALTY, maxLength });
      chunk.forEach((j, k) => {
        results[j] = outs[k]!.map((h) => ({ text: this.targetTokenizer.detokenize(this.targetVocabulary.decode(h.ids)), score: h.score, logProb: h.logProb }));
      });
    }
    return results;
  }

  dispose(): void {
    this.model.dispose();
  }
}
