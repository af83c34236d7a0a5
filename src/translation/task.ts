// Translation as a training task: bucketed batches of a parallel corpus for the loop, and validation by loss,
// perplexity and token accuracy (teacher forced, full softmax, no dropout) and by exact match and BLEU of greedy
// translations of (up to a configurable number of) validation sentences.
import * as tf from '@tensorflow/tfjs-core';
import { makeBatch, toBatchMajor, type Batch } from '../data/text/batch.js';
import {
  BatchSampler,
  DEFAULT_BUCKETS,
  type Bucket,
  type BatchSamplerState,
  type EncodedPair,
} from '../data/text/buckets.js';
import type { TokenizedPair } from '../data/text/corpus.js';
import { maskedCrossEntropy } from '../loss/crossEntropy.js';
import { corpusBleu } from '../metrics/bleu.js';
import type { Translator } from './translator.js';
import type { MetricDirection } from '../train/earlyStopping.js';
import { TrainingConfigError } from '../train/options.js';
import { CheckpointError, type SavedModelForm } from '../train/checkpoints.js';
import type { TrainableModel, TrainingBatch, TrainingTask } from '../train/task.js';

export interface TranslationTaskOptions {
  /** Pairs per training batch (default 64). */
  batchSize: number;
  /** Bucket sizes [source, target + EOS] (default the tutorial's (5,10),(10,15),(20,25),(40,50)). */
  buckets: readonly Bucket[];
  /** Seed of the order of training pairs (default 1). */
  seed: number;
  /** Pairs per validation batch (default 64). */
  validBatchSize: number;
  /** Validation sentences greedily translated for exact match and BLEU (default 200; 0: no decoding, loss metrics only). */
  decodeSentences: number;
}

export const DEFAULT_TRANSLATION_TASK: TranslationTaskOptions = {
  batchSize: 64,
  buckets: DEFAULT_BUCKETS,
  seed: 1,
  validBatchSize: 64,
  decodeSentences: 200,
};

/** Translation data as the task needs it: tokenized pairs (encoded with the translator's vocabularies). */
export interface TranslationData {
  train: readonly TokenizedPair[];
  valid: readonly TokenizedPair[];
}

export class TranslationTask implements TrainingTask<Batch> {
  readonly options: TranslationTaskOptions;
  readonly model: TrainableModel<Batch>;
  readonly sampler: BatchSampler;
  readonly metrics: Readonly<Record<string, MetricDirection>>;
  private readonly validBatches: { batch: Batch; tokens: number }[];
  private readonly decodeSources: number[][];
  private readonly decodeReferences: string[];

  constructor(
    readonly translator: Translator,
    data: TranslationData,
    options: Partial<TranslationTaskOptions> = {},
  ) {
    this.options = { ...DEFAULT_TRANSLATION_TASK, ...options };
    const o = this.options;
    const { sourceVocabulary: sv, targetVocabulary: tv } = translator;
    const seq2seq = translator.model;
    const reverseSource = seq2seq.config.reverseSource;
    this.model = seq2seq;
    const encode = (p: TokenizedPair): EncodedPair => ({ source: sv.encode(p.source), target: tv.encode(p.target) });
    this.sampler = new BatchSampler(data.train.map(encode), {
      buckets: o.buckets,
      batchSize: o.batchSize,
      seed: o.seed,
      reverseSource,
    });
    // Validation batches are fixed: sorted by length so padding stays low; every pair is used, however long.
    const valid = data.valid
      .map((p) => ({ pair: p, ids: encode(p) }))
      .sort((a, b) => a.ids.source.length - b.ids.source.length || a.ids.target.length - b.ids.target.length);
    this.validBatches = [];
    for (let i = 0; i < valid.length; i += o.validBatchSize) {
      const batch = makeBatch(
        valid.slice(i, i + o.validBatchSize).map((v) => v.ids),
        { reverseSource },
      );
      this.validBatches.push({ batch, tokens: batch.targetLengths.reduce((a, b) => a + b, 0) });
    }
    // The decoded subset is spread over the validation set (every k-th pair in corpus order), not its shortest part.
    const n = Math.min(o.decodeSentences, data.valid.length);
    const stride = n > 0 ? data.valid.length / n : 1;
    const picked = Array.from({ length: n }, (_, i) => data.valid[Math.floor(i * stride)]!);
    this.decodeSources = picked.map((p) => sv.encode(p.source));
    // References are the tokenized target text detokenized, so words missing from the vocabulary still count as misses.
    this.decodeReferences = picked.map((p) => translator.targetTokenizer.detokenize(p.target));
    this.metrics =
      n > 0
        ? { loss: 'lower', perplexity: 'lower', tokenAccuracy: 'higher', exactMatch: 'higher', bleu: 'higher' }
        : { loss: 'lower', perplexity: 'lower', tokenAccuracy: 'higher' };
    if (this.validBatches.length === 0)
      throw new TrainingConfigError('translation training needs validation pairs (none were given or held out)');
  }

  nextBatch(): TrainingBatch<Batch> {
    const { batch } = this.sampler.next();
    return { batch, tokens: batch.targetLengths.reduce((a, b) => a + b, 0) };
  }

  samplerState(): BatchSamplerState {
    return this.sampler.getState();
  }

  setSamplerState(state: unknown): void {
    const s = state as Partial<BatchSamplerState> | null;
    if (s === null || typeof s !== 'object' || !Number.isInteger(s.epoch) || !Number.isInteger(s.step))
      throw new CheckpointError(`sampler state ${JSON.stringify(state)} is not {epoch, step}`);
    this.sampler.setState({ epoch: s.epoch!, step: s.step! });
  }

  epoch(): number {
    return Math.max(this.sampler.getState().epoch, 0);
  }

  /**
   * loss: mean cross-entropy per real target token (EOS included), full softmax; perplexity: e^loss; tokenAccuracy:
   * share of those tokens whose teacher-forced argmax is right; exactMatch and bleu (corpus BLEU, sacreBLEU 13a) of
   * greedy translations of the decoded subset. Shares are in percent, like BLEU.
   */
  validate(): Record<string, number> {
    const model = this.translator.model;
    let lossSum = 0;
    let tokens = 0;
    let correct = 0;
    for (const { batch, tokens: n } of this.validBatches) {
      const [loss, argmax] = tf.tidy<[number, Int32Array]>(() => {
        const logits = model.logits(batch); // [B·T, V], batch-major
        const targets = toBatchMajor(batch.targetOut, batch.targetSteps, batch.size);
        const mask = toBatchMajor(batch.targetMask, batch.targetSteps, batch.size);
        return [
          maskedCrossEntropy(logits, targets, mask).dataSync()[0]!,
          tf.argMax(logits, 1).dataSync() as Int32Array,
        ];
      });
      const targets = toBatchMajor(batch.targetOut, batch.targetSteps, batch.size);
      const mask = toBatchMajor(batch.targetMask, batch.targetSteps, batch.size);
      for (let i = 0; i < mask.length; i++) if (mask[i]! > 0 && argmax[i] === targets[i]) correct++;
      lossSum += loss * n;
      tokens += n;
    }
    const loss = lossSum / Math.max(tokens, 1);
    const metrics: Record<string, number> = {
      loss,
      perplexity: Math.exp(loss),
      tokenAccuracy: (100 * correct) / Math.max(tokens, 1),
    };
    if (this.decodeSources.length > 0) {
      const hyps = this.translator.translateIdsText(this.decodeSources, { batchSize: this.options.validBatchSize });
      metrics['exactMatch'] = (100 * hyps.filter((h, i) => h === this.decodeReferences[i]).length) / hyps.length;
      metrics['bleu'] = corpusBleu(hyps, [this.decodeReferences]).score;
    }
    return metrics;
  }

  savedForm(): SavedModelForm {
    return this.translator.savedForm();
  }
}
