// Recurrent language model: reads GO w1 … wn and predicts w1 … wn EOS, with the same masked loss (or sampled
// softmax) as the translation decoder. Generation continues a prompt by sampling (temperature, top-k) or greedily,
// through the same search code as translation: the model is wrapped as a Decodable whose "memory" is the state
// after the prompt.
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../random.js';
import { Params } from '../../model/params.js';
import { refuseProblems, seedProblem } from '../../model/configChecks.js';
import { dense } from '../../layers/dense.js';
import { sequenceLoss } from '../../loss/sequenceLoss.js';
import { hiddenPart } from '../../recurrent/rnn.js';
import { DEFAULT_CELL, type CellOptions } from '../../recurrent/cell.js';
import { GO, EOS } from '../../data/text/vocabulary.js';
import { sampleDecode } from '../../search/sample.js';
import type { Decodable, Stoppable } from '../../search/decodable.js';
import { checkBatchSize, type SourceBatch } from '../../data/text/batch.js';
import { SequenceReader, tokenBatch, type SequenceBatch } from '../sequenceInput.js';
import { logSoftmaxRows } from '../../loss/logSoftmax.js';
import type { LossContext } from '../../train/task.js';

export interface LanguageModelConfig {
  vocabSize: number;
  /** Embedding width (default 64). */
  embeddingSize: number;
  /** Recurrent units (default 256). */
  hiddenSize: number;
  cell: CellOptions;
  seed: number;
}

export const DEFAULT_LANGUAGE_MODEL_CONFIG: Omit<LanguageModelConfig, 'vocabSize'> = {
  embeddingSize: 64,
  hiddenSize: 256,
  cell: DEFAULT_CELL,
  seed: 1,
};

export interface LmBatch extends SequenceBatch {
  /** [T·B] next tokens (w1 … wn EOS PAD …), time-major. */
  targets: Int32Array;
}

/** Token sequences → inputs GO w1 … wn, targets w1 … wn EOS; the mask marks the n + 1 real positions. */
export function makeLmBatch(sequences: readonly (readonly number[])[]): LmBatch {
  const inputs = tokenBatch(sequences.map((s) => [GO, ...s]));
  const targets = new Int32Array(inputs.ids!.length);
  const B = sequences.length;
  sequences.forEach((s, b) => s.forEach((id, t) => (targets[t * B + b] = id)));
  sequences.forEach((s, b) => (targets[s.length * B + b] = EOS));
  return { ...inputs, targets };
}

/** How to generate; `shouldStop`, asked before every step, ends generation with SearchStoppedError. */
export interface GenerateOptions extends Stoppable {
  /** Tokens to generate at most, EOS excluded (default 100). */
  maxLength?: number;
  /** Sampling temperature; 0 = greedy (default 1). */
  temperature?: number;
  /** Sample among the k most probable tokens only (default 0: all). */
  topK?: number;
  /** Seed of the draws (default 1): prompt i of the call draws from stream firstPrompt + i of it (Rng.stream). */
  seed?: number;
  /**
   * The index of the call's first prompt in a longer run (default 0), so that a run generated call by call (the
   * CLI, a chunk at a time) samples as one call would.
   */
  firstPrompt?: number;
  /** Each prompt's stream of the seed (a server merging requests: each prompt's place in its own request). */
  streams?: readonly number[];
  /**
   * Prompts run together at most (default 64): memory is this many rows of state and of the vocabulary, however many
   * prompts are given. Each prompt draws from its own stream, so the batch size does not change the samples.
   */
  batchSize?: number;
}

interface LmMemory {
  /** [B, state] after GO and all prompt tokens but the last. */
  state: tf.Tensor2D;
  /** Each row's last prompt token (GO for an empty prompt): the first step's input. */
  last: Int32Array;
}

export class LanguageModel {
  readonly params: Params;
  readonly reader: SequenceReader;

  constructor(readonly config: LanguageModelConfig) {
    refuseProblems(seedProblem(config.seed));
    this.params = new Params(new Rng(config.seed));
    const { vocabSize: V, embeddingSize: E, hiddenSize: H } = config;
    this.reader = new SequenceReader(this.params, 'lm', { kind: 'tokens', vocabSize: V, embeddingSize: E }, H, {
      ...DEFAULT_CELL,
      ...config.cell,
    });
    this.params.create('lm/output/W', [H, V], { kind: 'uniform', scale: 1 / Math.sqrt(H) });
    this.params.create('lm/output/b', [V], { kind: 'zeros' });
  }

  private output(): { W: tf.Tensor2D; b: tf.Tensor1D } {
    return { W: this.params.get('lm/output/W') as tf.Tensor2D, b: this.params.get('lm/output/b') as tf.Tensor1D };
  }

  /** Mean next-token cross-entropy over real positions (sampled softmax when the context asks for it in training). */
  loss(batch: LmBatch, context: LossContext = { training: false }): tf.Scalar {
    return tf.tidy(() => {
      const { outputs } = this.reader.read(batch);
      const top = tf.reshape<tf.Rank.R2>(outputs, [batch.steps * batch.size, this.config.hiddenSize]);
      const { W, b } = this.output();
      return sequenceLoss(top, W, b, batch.targets, batch.mask, context.loss ?? {}, context);
    });
  }

  /** Summed negative log-likelihood (nats) and the number of predicted tokens, for perplexity over many batches. */
  score(batch: LmBatch): { nll: number; tokens: number } {
    let tokens = 0;
    for (const m of batch.mask) tokens += m;
    const loss = this.loss(batch);
    const mean = loss.dataSync()[0]!;
    loss.dispose();
    return { nll: mean * tokens, tokens };
  }

  /**
   * Continues each prompt (token ids, without GO) until EOS or maxLength, `batchSize` prompts at a time; returns the
   * generated ids.
   */
  generate(prompts: readonly (readonly number[])[], options: GenerateOptions = {}): number[][] {
    const batchSize = options.batchSize ?? 64;
    const first = options.firstPrompt ?? 0;
    checkBatchSize(batchSize);
    if (options.streams !== undefined && options.streams.length !== prompts.length)
      throw new RangeError(`streams: ${options.streams.length} for ${prompts.length} prompts`);
    const out: number[][] = [];
    for (let i = 0; i < prompts.length; i += batchSize) {
      const chunk = prompts.slice(i, i + batchSize);
      const dummy: SourceBatch = {
        size: chunk.length,
        sourceSteps: 1,
        source: new Int32Array(chunk.length),
        sourceMask: new Float32Array(chunk.length),
        sourceLengths: new Int32Array(chunk.length),
      };
      const hyps = sampleDecode(this.decodable(chunk), dummy, {
        maxLength: options.maxLength ?? 100,
        temperature: options.temperature ?? 1,
        topK: options.topK ?? 0,
        seed: options.seed ?? 1,
        firstSentence: first + i,
        ...(options.streams === undefined ? {} : { streams: options.streams.slice(i, i + batchSize) }),
        shouldStop: options.shouldStop,
      });
      for (const h of hyps) out.push(h.ids);
    }
    return out;
  }

  /** The model as search sees it, for these prompts: GO at the first step stands for each prompt's last token. */
  private decodable(prompts: readonly (readonly number[])[]): Decodable<LmMemory, tf.Tensor2D> {
    const H = this.config.hiddenSize;
    const rnn = this.reader.rnn;
    return {
      encode: (): LmMemory => {
        const heads = prompts.map((p) => (p.length === 0 ? [] : [GO, ...p.slice(0, -1)]));
        const last = Int32Array.from(prompts.map((p) => (p.length === 0 ? GO : p[p.length - 1]!)));
        const state = tf.tidy(() => {
          if (heads.every((h) => h.length === 0)) return tf.zeros<tf.Rank.R2>([prompts.length, rnn.stateSize]);
          return this.reader.read(tokenBatch(heads)).final;
        });
        return { state, last };
      },
      selectMemory: (memory, rows) => ({
        state: tf.tidy(() => tf.gather(memory.state, tf.tensor1d(rows, 'int32'))),
        last: rows.map((r) => memory.last[r]!),
      }),
      initialState: (memory) => tf.clone(memory.state),
      step: (memory, state, previous, { scores = 'logProbs' } = {}) => {
        const input = previous.map((id, i) => (id === GO ? memory.last[i]! : id));
        const [logProbs, next] = tf.tidy(() => {
          const table = this.params.get('lm/embedding') as tf.Tensor2D;
          const n = rnn.step(rnn.projectTokens(table, input), state);
          const { W, b } = this.output();
          const logits = dense(hiddenPart(n, H), W, b);
          return [scores === 'logits' ? logits : logSoftmaxRows(logits), n];
        });
        return { logProbs: logProbs, state: next };
      },
      selectState: (state, indices) => tf.tidy(() => tf.gather(state, tf.tensor1d(indices, 'int32'))),
      disposeState: (state) => state.dispose(),
      disposeMemory: (memory) => memory.state.dispose(),
    };
  }

  dispose(): void {
    this.params.dispose();
  }
}
