// The translation model as a user holds it: model + vocabularies + tokenizers, saved to and loaded from one
// directory, translating plain text lines.
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG, type Seq2SeqConfig } from './model/seq2seq.js';
import { saveModelFiles, loadModelFiles, ModelFileError } from './model/checkpoint.js';
import { Vocabulary, UNK, type VocabularyJson } from './data/vocabulary.js';
import { createTokenizer, tokenizerConfigFromJSON, type Tokenizer, type TokenizerConfig } from './data/tokenizers.js';
import { makeSourceBatch } from './data/batch.js';
import { greedyDecode } from './search/greedy.js';

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
}

export interface Translation {
  text: string;
  /** Source tokens that were not in the vocabulary (translated as <unk>). */
  unknownTokens: string[];
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
    const where = `${dir}/model.json`;
    const e = json.extra;
    if (e === undefined || e === null) throw new ModelFileError(`${where}: missing vocabularies and tokenizers`);
    const sourceVocabulary = Vocabulary.fromJSON(e.sourceVocabulary, `${where} sourceVocabulary`);
    const targetVocabulary = Vocabulary.fromJSON(e.targetVocabulary, `${where} targetVocabulary`);
    const config: Seq2SeqConfig = { ...DEFAULT_SEQ2SEQ_CONFIG, ...json.config };
    const model = new Seq2Seq(config, sourceVocabulary.size, targetVocabulary.size);
    try {
      model.params.load(json.weights.manifest, data, where);
    } catch (err) {
      model.dispose();
      throw err;
    }
    return new Translator(
      model,
      sourceVocabulary,
      targetVocabulary,
      await createTokenizer(tokenizerConfigFromJSON(e.sourceTokenizer, `${where} sourceTokenizer`)),
      await createTokenizer(tokenizerConfigFromJSON(e.targetTokenizer, `${where} targetTokenizer`)),
      e.info ?? {},
    );
  }

  async save(dir: string): Promise<void> {
    const { manifest, data } = this.model.params.serialize();
    const extra: TranslatorExtra = {
      sourceVocabulary: this.sourceVocabulary.toJSON(),
      targetVocabulary: this.targetVocabulary.toJSON(),
      sourceTokenizer: this.sourceTokenizer.toJSON(),
      targetTokenizer: this.targetTokenizer.toJSON(),
      info: this.info,
    };
    await saveModelFiles(dir, 'seq2seq', this.model.config, manifest, data, extra);
  }

  /** Translates each line; an empty (or all-space) line gives an empty translation. */
  translate(lines: readonly string[], options: TranslateOptions = {}): Translation[] {
    const batchSize = options.batchSize ?? 64;
    const ratio = options.maxLengthRatio ?? 2;
    const margin = options.maxLengthMargin ?? 10;
    const results: Translation[] = lines.map(() => ({ text: '', unknownTokens: [] }));
    const work: { index: number; ids: number[] }[] = [];
    lines.forEach((line, index) => {
      const tokens = this.sourceTokenizer.tokenize(line.trim());
      if (tokens.length === 0) return;
      const ids = this.sourceVocabulary.encode(tokens);
      results[index]!.unknownTokens = tokens.filter((_, i) => ids[i] === UNK);
      work.push({ index, ids });
    });
    // Sorting by length keeps padding low inside each batch; results go back to their input positions.
    work.sort((a, b) => a.ids.length - b.ids.length);
    for (let i = 0; i < work.length; i += batchSize) {
      const chunk = work.slice(i, i + batchSize);
      const batch = makeSourceBatch(chunk.map((w) => w.ids), { reverseSource: this.model.config.reverseSource });
      // Each sentence's own limit, so that a translation does not depend on its batch-mates.
      const maxLength = chunk.map((w) => Math.ceil(ratio * w.ids.length) + margin);
      const outs = greedyDecode(this.model, batch, { maxLength });
      chunk.forEach((w, k) => {
        results[w.index]!.text = this.targetTokenizer.detokenize(this.targetVocabulary.decode(outs[k]!));
      });
    }
    return results;
  }

  dispose(): void {
    this.model.dispose();
  }
}
