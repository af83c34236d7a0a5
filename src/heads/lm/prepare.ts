// Everything between a `translate lm train` config and the training loop: read the text, split off validation
// lines, build the tokenizer and vocabulary, build the model, and wrap it all as a LanguageModelTask whose loss is
// the config's (full or sampled softmax). On resume the vocabulary, tokenizer and model come from the checkpoint.
import { splitCorpus } from '../../data/split.js';
import { Vocabulary } from '../../data/text/vocabulary.js';
import { createTokenizer, parseTokenizerSpec } from '../../data/text/tokenizers.js';
import type { SavedModelJson } from '../../model/modelFiles.js';
import type { Checkpoint } from '../../train/checkpoints.js';
import { ConfigError, type SavedRunConfig } from '../../train/config.js';
import { readTextLines } from '../textLines.js';
import { LanguageModel } from './languageModel.js';
import { LanguageModelTask } from './languageModelTask.js';
import { TextLanguageModel, type LanguageModelExtra } from './textLanguageModel.js';
import type { LmTrainConfig } from './config.js';

export interface PreparedLanguageModel {
  lm: TextLanguageModel;
  task: LanguageModelTask;
  /** The effective config, saved in the checkpoint (model.json's training.config) for --resume. */
  saved: SavedRunConfig<LmTrainConfig>;
  /** Facts for the user. */
  summary: { trainLines: number; validLines: number; vocabulary: number; tokenizer: string; weights: number };
}

/** The training and validation lines of a run (non-empty lines; validation split off by data.seed without a file). */
export async function readLmText(config: LmTrainConfig): Promise<{ train: string[]; valid: string[] }> {
  const d = config.data;
  const lines = await readTextLines(d.train, { nonEmpty: true, ...(d.limit !== undefined ? { limit: d.limit } : {}) });
  const parts =
    d.valid !== undefined
      ? { train: lines, valid: await readTextLines([d.valid], { nonEmpty: true }) }
      : splitCorpus(lines, { valid: d.validSplit, test: 0, seed: d.seed, unit: 'lines' });
  if (parts.train.length === 0) {
    const held =
      d.valid === undefined && parts.valid.length > 0 ? ` (${parts.valid.length} held out by data.validSplit)` : '';
    throw new ConfigError(`${d.train.join(', ')}: no non-empty training lines${held}`);
  }
  return { train: parts.train, valid: parts.valid };
}

/** Builds the task for a new run (`resume` absent) or for continuing the run saved in `resume`. */
export async function prepareLanguageModel(config: LmTrainConfig, resume?: Checkpoint): Promise<PreparedLanguageModel> {
  const d = config.data;
  const { train, valid } = await readLmText(config);
  let lm: TextLanguageModel;
  if (resume !== undefined) {
    const json = resume.json as SavedModelJson<never, LanguageModelExtra>;
    lm = await TextLanguageModel.fromSaved(json, resume.weights, `${resume.dir}/model.json`, { directory: resume.dir });
  } else {
    const tokenizer = await createTokenizer(parseTokenizerSpec(d.tokenizer));
    const prep = (l: string): string => (d.lowercase ? l.toLowerCase() : l);
    const vocabulary = Vocabulary.build(
      train.map((l) => tokenizer.tokenize(prep(l))),
      {
        minCount: d.minCount,
        ...(d.maxVocab !== undefined ? { maxSize: d.maxVocab } : {}),
      },
    );
    const model = new LanguageModel({ ...config.model, vocabSize: vocabulary.size });
    lm = new TextLanguageModel(model, vocabulary, tokenizer, d.lowercase);
  }
  try {
    const task = new LanguageModelTask(
      lm,
      { train: train.map((l) => lm.encode(l)), valid: valid.map((l) => lm.encode(l)) },
      {
        batchSize: d.batchSize,
        seed: d.seed,
        validBatchSize: config.validation.batchSize,
        loss: config.loss,
      },
    );
    return {
      lm,
      task,
      saved: { config },
      summary: {
        trainLines: train.length,
        validLines: valid.length,
        vocabulary: lm.vocabulary.size,
        tokenizer: lm.tokenizer.toJSON().kind,
        weights: lm.model.params.count(),
      },
    };
  } catch (e) {
    lm.dispose();
    throw e;
  }
}
