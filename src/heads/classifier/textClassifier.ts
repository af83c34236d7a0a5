// A sequence classifier with what turns its inputs into batches and its outputs into labels: for text, the
// vocabulary and tokenizer; for feature sequences, the number of features per step; and the label names. Saved in
// one model directory (kind 'classifier'), as the Translator does for translation.
import { builtFrom } from '../../model/configChecks.js';
import {
  SequenceClassifier,
  DEFAULT_CLASSIFIER_CONFIG,
  type ClassifierConfig,
  type ClassifierBatch,
} from './classifier.js';
import { tokenBatch, featureBatch, type SequenceBatch } from '../sequenceInput.js';
import { classificationReport, type ClassificationReport } from '../../metrics/scores.js';
import { Labels, type LabelsJson } from '../../data/text/labelled.js';
import { Vocabulary, type VocabularyJson } from '../../data/text/vocabulary.js';
import {
  createTokenizer,
  tokenizerConfigFromJSON,
  tokenizerFiles,
  type CreateTokenizerOptions,
} from '../../data/text/tokenizers.js';
import { checkTexts, type Tokenizer, type TokenizerConfig } from '../../data/text/tokenizer.js';
import { checkBatchSize } from '../../data/text/batch.js';
import {
  saveModelFiles,
  loadModelFiles,
  ModelFileError,
  type SavedModelJson,
  type ModelSideFile,
} from '../../model/modelFiles.js';
import { ToolkitError } from '../../errors.js';
import { withSavedWeights } from '../../model/modelFiles.js';

export const CLASSIFIER_KIND = 'classifier';

export type ClassifierInputJson =
  | { kind: 'tokens'; vocabulary: VocabularyJson; tokenizer: TokenizerConfig; lowercase: boolean }
  | { kind: 'features'; featureSize: number };

export interface ClassifierExtra {
  labels: LabelsJson;
  input: ClassifierInputJson;
}

/** What the classifier reads: text (tokenized, looked up) or feature sequences ([steps · F], step-major). */
export type ClassifierInput =
  | { kind: 'tokens'; vocabulary: Vocabulary; tokenizer: Tokenizer; lowercase: boolean }
  | { kind: 'features'; featureSize: number };

/** One example as the model reads it: token ids, or feature values [steps · F]. */
export type ClassifierExample = number[] | Float32Array;

export interface Prediction {
  label: string;
  probability: number;
  /** Every class's probability, in label order. */
  probabilities: Float32Array;
}

export class ClassifierInputError extends ToolkitError {
  override name = 'ClassifierInputError';
}

export class TextClassifier {
  constructor(
    readonly model: SequenceClassifier,
    readonly labels: Labels,
    readonly input: ClassifierInput,
  ) {}

  /** A text's token ids (token-input models only). */
  encodeText(text: string): number[] {
    if (this.input.kind !== 'tokens')
      throw new ClassifierInputError('this classifier reads feature sequences, not text');
    const { vocabulary, tokenizer, lowercase } = this.input;
    return vocabulary.encode(tokenizer.tokenize(lowercase ? text.toLowerCase() : text));
  }

  /** Examples → one padded batch (empty texts read as one <unk>, so every sequence has a step). */
  batch(examples: readonly ClassifierExample[]): SequenceBatch {
    if (this.input.kind === 'tokens') return tokenBatch(examples.map((e) => (e.length === 0 ? [3] : Array.from(e))));
    const F = this.input.featureSize;
    return featureBatch(
      examples.map((e) => (e instanceof Float32Array ? e : Float32Array.from(e))),
      F,
    );
  }

  /** Examples with their class ids → a training/evaluation batch. */
  labelledBatch(examples: readonly ClassifierExample[], labels: ArrayLike<number>): ClassifierBatch {
    return { ...this.batch(examples), labels: Int32Array.from(labels) };
  }

  /** Class probabilities of each example, in batches of `batchSize`. */
  probabilities(examples: readonly ClassifierExample[], batchSize = 64): Float32Array[] {
    checkBatchSize(batchSize);
    const out: Float32Array[] = [];
    for (let i = 0; i < examples.length; i += batchSize)
      out.push(...this.model.predict(this.batch(examples.slice(i, i + batchSize))));
    return out;
  }

  predict(examples: readonly ClassifierExample[], batchSize = 64): Prediction[] {
    return this.probabilities(examples, batchSize).map((p) => {
      let best = 0;
      for (let c = 1; c < p.length; c++) if (p[c]! > p[best]!) best = c;
      return { label: this.labels.label(best), probability: p[best]!, probabilities: p };
    });
  }

  /** Texts → predictions (token-input models). */
  predictTexts(texts: readonly string[], batchSize = 64): Prediction[] {
    checkTexts(texts);
    return this.predict(
      texts.map((t) => this.encodeText(t)),
      batchSize,
    );
  }

  /** Accuracy, macro-F1, per-class scores and the confusion matrix against class ids. */
  evaluate(examples: readonly ClassifierExample[], expected: readonly number[], batchSize = 64): ClassificationReport {
    const predicted = this.predict(examples, batchSize).map((p) => this.labels.id(p.label));
    return classificationReport(predicted, expected, this.labels.size);
  }

  savedForm(): {
    kind: typeof CLASSIFIER_KIND;
    config: ClassifierConfig;
    extra: ClassifierExtra;
    files: ModelSideFile[];
  } {
    const input: ClassifierInputJson =
      this.input.kind === 'tokens'
        ? {
            kind: 'tokens',
            vocabulary: this.input.vocabulary.toJSON(),
            tokenizer: this.input.tokenizer.toJSON(),
            lowercase: this.input.lowercase,
          }
        : { kind: 'features', featureSize: this.input.featureSize };
    const files = this.input.kind === 'tokens' ? tokenizerFiles([this.input.tokenizer]) : [];
    return { kind: CLASSIFIER_KIND, config: this.model.config, extra: { labels: this.labels.toJSON(), input }, files };
  }

  async save(dir: string): Promise<void> {
    const { kind, config, extra, files } = this.savedForm();
    const { manifest, data } = this.model.params.serialize();
    await saveModelFiles(dir, kind, config, manifest, data, extra, { files });
  }

  static async load(dir: string): Promise<TextClassifier> {
    const { json, data } = await loadModelFiles<ClassifierConfig, ClassifierExtra>(dir, CLASSIFIER_KIND);
    return TextClassifier.fromSaved(json, data, `${dir}/model.json`, { directory: dir });
  }

  /** `files`: where a SentencePiece tokenizer's model file is: the model directory, or the file's bytes. */
  static async fromSaved(
    json: SavedModelJson<ClassifierConfig, ClassifierExtra>,
    data: Float32Array,
    where: string,
    files: CreateTokenizerOptions = {},
  ): Promise<TextClassifier> {
    const e = json.extra;
    const labels = Labels.fromJSON(e?.labels, `${where} labels`);
    let input: ClassifierInput;
    if (e.input?.kind === 'tokens') {
      const vocabulary = Vocabulary.fromJSON(e.input.vocabulary, `${where} vocabulary`);
      input = {
        kind: 'tokens',
        vocabulary,
        tokenizer: await createTokenizer(tokenizerConfigFromJSON(e.input.tokenizer, `${where} tokenizer`), files),
        lowercase: e.input.lowercase === true,
      };
    } else if (e.input?.kind === 'features' && Number.isInteger(e.input.featureSize) && e.input.featureSize > 0) {
      input = { kind: 'features', featureSize: e.input.featureSize };
    } else {
      throw new ModelFileError(
        `${where}: extra.input must be {"kind":"tokens",…} or {"kind":"features","featureSize":F}`,
      );
    }
    const config = { ...DEFAULT_CLASSIFIER_CONFIG, ...json.config, classes: labels.size };
    const model = builtFrom(where, () => new SequenceClassifier(config));
    return new TextClassifier(withSavedWeights(model, json, data, where), labels, input);
  }

  dispose(): void {
    this.model.dispose();
  }
}
