// A language model with what turns text into its ids and back: the vocabulary and the tokenizer (word, char or
// SentencePiece), saved together in one model directory (kind 'lm'), as the Translator does for translation.
import { builtFrom } from '../../model/configChecks.js';
import {
  LanguageModel,
  makeLmBatch,
  DEFAULT_LANGUAGE_MODEL_CONFIG,
  type LanguageModelConfig,
  type GenerateOptions,
} from './languageModel.js';
import { Vocabulary, UNK, type VocabularyJson } from '../../data/text/vocabulary.js';
import {
  createTokenizer,
  tokenizerConfigFromJSON,
  tokenizerFiles,
  type CreateTokenizerOptions,
} from '../../data/text/tokenizers.js';
import { checkTexts, type Tokenizer, type TokenizerConfig } from '../../data/text/tokenizer.js';
import { checkBatchSize } from '../../data/text/batch.js';
import { saveModelFiles, loadModelFiles, type SavedModelJson, type ModelSideFile } from '../../model/modelFiles.js';
import { withSavedWeights } from '../../model/modelFiles.js';

export const LM_KIND = 'lm';

export interface LanguageModelExtra {
  vocabulary: VocabularyJson;
  tokenizer: TokenizerConfig;
  /** Text is lowercased before tokenizing. */
  lowercase: boolean;
}

export interface ScoreResult {
  perplexity: number;
  /** Mean negative log-likelihood per predicted token (EOS included), in nats. */
  meanNll: number;
  tokens: number;
  /** Tokens that are not in the vocabulary (scored as <unk>). */
  unknown: number;
}

export class TextLanguageModel {
  constructor(
    readonly model: LanguageModel,
    readonly vocabulary: Vocabulary,
    readonly tokenizer: Tokenizer,
    readonly lowercase = false,
  ) {}

  /** A line's token ids (without GO/EOS). */
  encode(line: string): number[] {
    return this.vocabulary.encode(this.tokenizer.tokenize(this.lowercase ? line.toLowerCase() : line));
  }

  /** Continues each prompt; returns prompt and continuation as one text. */
  generate(prompts: readonly string[], options: GenerateOptions = {}): string[] {
    checkTexts(prompts);
    const ids = prompts.map((p) => this.encode(p));
    const continuations = this.model.generate(ids, options);
    return continuations.map((c, i) => this.tokenizer.detokenize(this.vocabulary.decode([...ids[i]!, ...c])));
  }

  /** Perplexity of lines (each ends with EOS, as in training), in batches of `batchSize`. */
  score(lines: readonly string[], batchSize = 64): ScoreResult {
    checkTexts(lines);
    checkBatchSize(batchSize);
    const ids = lines.map((l) => this.encode(l));
    let nll = 0;
    let tokens = 0;
    let unknown = 0;
    for (const s of ids) for (const id of s) if (id === UNK) unknown++;
    // Sorted by length so batches carry little padding.
    const order = ids.map((_, i) => i).sort((a, b) => ids[a]!.length - ids[b]!.length);
    for (let i = 0; i < order.length; i += batchSize) {
      const r = this.model.score(makeLmBatch(order.slice(i, i + batchSize).map((k) => ids[k]!)));
      nll += r.nll;
      tokens += r.tokens;
    }
    const meanNll = nll / Math.max(tokens, 1);
    return { perplexity: Math.exp(meanNll), meanNll, tokens, unknown };
  }

  savedForm(): {
    kind: typeof LM_KIND;
    config: LanguageModelConfig;
    extra: LanguageModelExtra;
    files: ModelSideFile[];
  } {
    const extra = {
      vocabulary: this.vocabulary.toJSON(),
      tokenizer: this.tokenizer.toJSON(),
      lowercase: this.lowercase,
    };
    return { kind: LM_KIND, config: this.model.config, extra, files: tokenizerFiles([this.tokenizer]) };
  }

  async save(dir: string): Promise<void> {
    const { kind, config, extra, files } = this.savedForm();
    const { manifest, data } = this.model.params.serialize();
    await saveModelFiles(dir, kind, config, manifest, data, extra, { files });
  }

  static async load(dir: string): Promise<TextLanguageModel> {
    const { json, data } = await loadModelFiles<Partial<LanguageModelConfig>, LanguageModelExtra>(dir, LM_KIND);
    return TextLanguageModel.fromSaved(json, data, `${dir}/model.json`, { directory: dir });
  }

  /**
   * Rebuilds from a model.json (a model directory or a checkpoint) and its weights; `where` names it in errors,
   * `files` says where a SentencePiece tokenizer's model file is: the model directory, or the file's bytes.
   */
  static async fromSaved(
    json: SavedModelJson<Partial<LanguageModelConfig>, LanguageModelExtra>,
    data: Float32Array,
    where: string,
    files: CreateTokenizerOptions = {},
  ): Promise<TextLanguageModel> {
    const e = json.extra;
    const vocabulary = Vocabulary.fromJSON(e.vocabulary, `${where} vocabulary`);
    const tokenizer = await createTokenizer(tokenizerConfigFromJSON(e.tokenizer, `${where} tokenizer`), files);
    const config = { ...DEFAULT_LANGUAGE_MODEL_CONFIG, ...json.config, vocabSize: vocabulary.size };
    const model = builtFrom(where, () => new LanguageModel(config));
    return new TextLanguageModel(
      withSavedWeights(model, json, data, where),
      vocabulary,
      tokenizer,
      e.lowercase === true,
    );
  }

  dispose(): void {
    this.model.dispose();
  }
}
