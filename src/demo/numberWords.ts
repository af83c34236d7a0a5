// The number-words demo end to end: generate → batch → train → evaluate → (the caller saves).
import {
  NumberWordsTask,
  numberWordsVocabularies,
  wordsToTokens,
  digitsToTokens,
  type NumberWordsOptions,
  type NumberWordsPair,
} from '../data/text/numberWords.js';
import { makeBatch, makeSourceBatch } from '../data/text/batch.js';
import type { Vocabulary } from '../data/text/vocabulary.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG, type Seq2SeqConfig } from '../translation/seq2seq.js';
import { Trainer, DEFAULT_TRAINER_OPTIONS, type TrainerOptions } from '../train/trainer.js';
import { greedyDecode } from '../search/greedy.js';
import { cosineLearningRate } from '../train/schedule.js';
import { Rng } from '../random.js';

export interface NumberWordsDemoOptions {
  task: NumberWordsOptions;
  model: Seq2SeqConfig;
  trainer: TrainerOptions;
  /** Training steps (default 1100). */
  steps: number;
  /** Learning rate at the last step as a share of the initial one, reached by cosine decay (default 0.05; 1 = constant). */
  finalLearningRate: number;
  /** Pairs per batch (default 64). */
  batchSize: number;
}

export const DEFAULT_NUMBER_WORDS_DEMO: NumberWordsDemoOptions = {
  task: { shortShare: 0.05 },
  model: DEFAULT_SEQ2SEQ_CONFIG,
  trainer: DEFAULT_TRAINER_OPTIONS,
  steps: 1100,
  batchSize: 64,
  finalLearningRate: 0.05,
};

export { cosineLearningRate };

/** What a saved demo model's info names as its task (cli/demo.ts writes it). */
export const NUMBER_WORDS_TASK = 'number-words';

/**
 * What the browser page (translate web, translate serve) puts in its text box for a translation model: the demo's
 * examples for the demo's models, else nothing.
 */
export function pageExample(info: Record<string, unknown>): string | null {
  return info['task'] === NUMBER_WORDS_TASK ? 'one two five\nseven zero zero' : null;
}

export interface ProgressInfo {
  step: number;
  steps: number;
  loss: number;
  /** Real target tokens (EOS included) in this step's batch. */
  tokens: number;
  /** Seconds this step took. */
  seconds: number;
}

export interface EvaluationResult {
  sentences: number;
  /** Share of target positions (EOS included) predicted right. */
  tokenAccuracy: number;
  /** Share of outputs exactly equal to the reference. */
  exactMatch: number;
  /** Accuracy at each target position (index 0 = first digit; the last index is the EOS position of the longest). */
  positionAccuracy: number[];
}

export function encodePair(
  p: NumberWordsPair,
  source: Vocabulary,
  target: Vocabulary,
): { source: number[]; target: number[] } {
  return { source: source.encode(wordsToTokens(p.words)), target: target.encode(digitsToTokens(p.digits)) };
}

/** Greedy-decodes `pairs` in batches and scores them against the digits. */
export function evaluateNumberWords(
  model: Seq2Seq,
  pairs: NumberWordsPair[],
  vocabs: { source: Vocabulary; target: Vocabulary },
  batchSize = 500,
): EvaluationResult {
  let correctTokens = 0;
  let totalTokens = 0;
  let exact = 0;
  const posCorrect: number[] = [];
  const posTotal: number[] = [];
  for (let i = 0; i < pairs.length; i += batchSize) {
    const chunk = pairs.slice(i, i + batchSize);
    const batch = makeSourceBatch(
      chunk.map((p) => vocabs.source.encode(wordsToTokens(p.words))),
      { reverseSource: model.config.reverseSource },
    );
    const maxLength = chunk.map((p) => p.digits.length + 5);
    const outs = greedyDecode(model, batch, { maxLength });
    chunk.forEach((p, k) => {
      const hyp = vocabs.target.decode(outs[k]!).join('');
      if (hyp === p.digits) exact++;
      // Positions: each reference digit, then the EOS position (right when the output stops there).
      for (let t = 0; t <= p.digits.length; t++) {
        const ok = t < p.digits.length ? hyp[t] === p.digits[t] : hyp.length === p.digits.length;
        posCorrect[t] = (posCorrect[t] ?? 0) + (ok ? 1 : 0);
        posTotal[t] = (posTotal[t] ?? 0) + 1;
        correctTokens += ok ? 1 : 0;
        totalTokens++;
      }
    });
  }
  return {
    sentences: pairs.length,
    tokenAccuracy: correctTokens / Math.max(totalTokens, 1),
    exactMatch: exact / Math.max(pairs.length, 1),
    positionAccuracy: posTotal.map((n, t) => (posCorrect[t] ?? 0) / n),
  };
}

export interface NumberWordsRun {
  model: Seq2Seq;
  task: NumberWordsTask;
  vocabs: { source: Vocabulary; target: Vocabulary };
  losses: number[];
  trainSeconds: number;
}

/** Trains the demo model; `onProgress` is called after every step. Stops early (after the current step) when `signal` aborts. */
export async function trainNumberWords(
  options: NumberWordsDemoOptions,
  onProgress?: (p: ProgressInfo) => void,
  signal?: AbortSignal,
): Promise<NumberWordsRun> {
  const task = new NumberWordsTask(options.task);
  const vocabs = numberWordsVocabularies();
  const model = new Seq2Seq(options.model, vocabs.source.size, vocabs.target.size);
  const trainer = new Trainer(model.params, options.trainer);
  // Dropout masks come from their own seeded stream, so that turning dropout on does not change the data.
  const dropoutRng = new Rng(options.model.seed + 7919);
  const losses: number[] = [];
  const start = performance.now();
  try {
    for (let step = 1; step <= options.steps && !signal?.aborted; step++) {
      const t0 = performance.now();
      const pairs = Array.from({ length: options.batchSize }, () =>
        encodePair(task.nextTrain(), vocabs.source, vocabs.target),
      );
      const batch = makeBatch(pairs, { reverseSource: options.model.reverseSource });
      trainer.setLearningRate(
        cosineLearningRate(options.trainer.learningRate, options.finalLearningRate, step, options.steps),
      );
      const { loss } = trainer.update(() => model.loss(batch, { training: true, rng: dropoutRng }));
      losses.push(loss);
      const tokens = batch.targetLengths.reduce((a, b) => a + b, 0);
      onProgress?.({ step, steps: options.steps, loss, tokens, seconds: (performance.now() - t0) / 1000 });
      // Yield to the event loop so that a Ctrl-C (SIGINT handler) can be seen between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    trainer.dispose();
  }
  return { model, task, vocabs, losses, trainSeconds: (performance.now() - start) / 1000 };
}
