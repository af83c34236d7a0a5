// The encoder–decoder translation model: one typed config, one set of named weights, a training loss and the
// pieces search needs (encode, decoder step).
//
//   source ids → Encoder (stack, optionally bidirectional) → outputs (attention memory) + final states
//              → Bridge → the decoder's initial state
//   target ids → Decoder (stack; attention dot | general | bahdanau | none) → output layer → loss / search
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../random.js';
import { Params, type ParamsOptions } from '../model/params.js';
import { ModelConfigError, oneOfProblem, seedProblem, wholeNumberProblem } from '../model/configChecks.js';
import { Encoder } from '../encoder/encoder.js';
import { Bridge, BRIDGE_KINDS, type BridgeKind } from '../encoder/bridge.js';
import { Decoder, joinMemories, type Memory, type DecoderState } from '../decoder/decoder.js';
import { ATTENTION_KINDS, type AttentionKind } from '../decoder/attention.js';
import { DEFAULT_CELL, cellProblem, stateBlocks, type CellOptions } from '../recurrent/cell.js';
import { MAX_LAYERS } from '../recurrent/stack.js';
import { checkDropout, NO_DROPOUT, type DropoutOptions } from '../layers/dropout.js';
import { sequenceLoss } from '../loss/sequenceLoss.js';
import type { LossContext } from '../train/task.js';
import { toBatchMajor, sourcePositions, type Batch, type SourceBatch } from '../data/text/batch.js';
import type { Decodable, StepOptions, StepOutput } from '../search/decodable.js';
import { logSoftmaxRows } from '../loss/logSoftmax.js';

export interface Seq2SeqConfig {
  /** Embedding width for source and target tokens (default 64). */
  embeddingSize: number;
  /** Recurrent units of every decoder layer, and of the encoder unless `encoderHiddenSize` says otherwise (default 128). */
  hiddenSize: number;
  /**
   * Encoder units per direction; 0 (default) = hiddenSize, or hiddenSize / 2 when bidirectional, so that the
   * joined [fwd | bwd] outputs and states are hiddenSize wide (as OpenNMT's brnn).
   */
  encoderHiddenSize: number;
  /** Recurrent cell of encoder and decoder (default GRU; or LSTM with forget bias and peepholes, or basic RNN). */
  cell: CellOptions;
  /** Stacked encoder layers (default 1). */
  encoderLayers: number;
  /** Stacked decoder layers (default 1). */
  decoderLayers: number;
  /** Encoder layers also read the source backwards (within each sequence's length); outputs [fwd | bwd] (default false). */
  bidirectional: boolean;
  /** Residual connections between stacked layers, from the second layer on, in encoder and decoder (default false). */
  residual: boolean;
  /** Keep probabilities (TF DropoutWrapper style), training only; all 1 (off) by default. See layers/dropout.ts. */
  dropout: DropoutOptions;
  /**
   * 'dot' (default) and 'general': Luong attention over the encoder outputs; 'bahdanau': additive attention whose
   * context feeds the decoder's input; 'none': the decoder sees only its initial state.
   */
  attention: AttentionKind;
  /** Bahdanau: width of the additive score's hidden layer; 0 (default) = hiddenSize. */
  attentionSize: number;
  /** How encoder final states become the decoder's initial state: 'auto' (default), 'copy', 'dense', 'zero' (encoder/bridge.ts). */
  bridge: BridgeKind;
  /** One embedding table for source and target tokens; needs equal vocabulary sizes (default false). */
  shareEmbeddings: boolean;
  /** Do not train the source embeddings (e.g. pretrained vectors; default false). A shared table is frozen by either flag. */
  freezeSourceEmbeddings: boolean;
  /** Do not train the target embeddings (default false). */
  freezeTargetEmbeddings: boolean;
  /** Feed sources reversed, padded at the front (default true). */
  reverseSource: boolean;
  /** Seed for the initial weights (default 1). */
  seed: number;
}

export const DEFAULT_SEQ2SEQ_CONFIG: Seq2SeqConfig = {
  embeddingSize: 64,
  hiddenSize: 128,
  encoderHiddenSize: 0,
  cell: DEFAULT_CELL,
  encoderLayers: 1,
  decoderLayers: 1,
  bidirectional: false,
  residual: false,
  dropout: NO_DROPOUT,
  attention: 'dot',
  attentionSize: 0,
  bridge: 'auto',
  shareEmbeddings: false,
  freezeSourceEmbeddings: false,
  freezeTargetEmbeddings: false,
  reverseSource: true,
  seed: 1,
};

export class Seq2SeqConfigError extends ModelConfigError {
  override name = 'Seq2SeqConfigError';
}

/** A complete config from a partial one (e.g. a model.json written before some fields existed): defaults fill the gaps, nested objects included. */
export function resolveSeq2SeqConfig(config: Partial<Seq2SeqConfig>): Seq2SeqConfig {
  return {
    ...DEFAULT_SEQ2SEQ_CONFIG,
    ...config,
    cell: { ...DEFAULT_SEQ2SEQ_CONFIG.cell, ...config.cell },
    dropout: { ...DEFAULT_SEQ2SEQ_CONFIG.dropout, ...config.dropout },
  };
}

/** Encoder units per direction that `config` implies (see `encoderHiddenSize`). */
export function encoderUnits(config: Seq2SeqConfig): number {
  if (config.encoderHiddenSize > 0) return config.encoderHiddenSize;
  return config.bidirectional ? config.hiddenSize / 2 : config.hiddenSize;
}

function validate(c: Seq2SeqConfig, sourceVocabSize: number, targetVocabSize: number): void {
  const problem =
    wholeNumberProblem('sourceVocabSize', sourceVocabSize) ??
    wholeNumberProblem('targetVocabSize', targetVocabSize) ??
    wholeNumberProblem('embeddingSize', c.embeddingSize) ??
    wholeNumberProblem('hiddenSize', c.hiddenSize) ??
    wholeNumberProblem('encoderHiddenSize', c.encoderHiddenSize, 0) ??
    wholeNumberProblem('attentionSize', c.attentionSize, 0) ??
    wholeNumberProblem('encoderLayers', c.encoderLayers, 1, MAX_LAYERS) ??
    wholeNumberProblem('decoderLayers', c.decoderLayers, 1, MAX_LAYERS) ??
    cellProblem(c.cell) ??
    oneOfProblem('attention', c.attention, ATTENTION_KINDS) ??
    oneOfProblem('bridge', c.bridge, BRIDGE_KINDS) ??
    seedProblem(c.seed);
  if (problem !== null) throw new Seq2SeqConfigError(problem);
  checkDropout(c.dropout);
  if (c.bidirectional && c.encoderHiddenSize === 0 && c.hiddenSize % 2 !== 0) {
    throw new Seq2SeqConfigError(
      `a bidirectional encoder splits hiddenSize ${c.hiddenSize} between its two directions: use an even size or set encoderHiddenSize`,
    );
  }
  const memory = (c.bidirectional ? 2 : 1) * encoderUnits(c);
  if (c.attention === 'dot' && memory !== c.hiddenSize) {
    throw new Seq2SeqConfigError(
      `'dot' attention needs encoder outputs as wide as the decoder (${memory} ≠ ${c.hiddenSize}): use 'general' or 'bahdanau'`,
    );
  }
  if (c.shareEmbeddings && sourceVocabSize !== targetVocabSize) {
    throw new Seq2SeqConfigError(
      `shareEmbeddings needs equal source and target vocabulary sizes, got ${sourceVocabSize} and ${targetVocabSize} (build one joint vocabulary)`,
    );
  }
}

/** tf.tidy for a Memory, whose `keys` may be null (which tidy's containers do not allow). */
function tidyMemory(f: () => Memory): Memory {
  let group = 1;
  const m = tf.tidy(() => {
    const x = f();
    group = x.group ?? 1;
    return { outputs: x.outputs, maskBias: x.maskBias, initial: x.initial, keys: x.keys ?? undefined };
  });
  return { ...m, keys: m.keys ?? null, ...(group > 1 ? { group } : {}) };
}

/**
 * G when `rows` is each of some rows repeated G times in a row (rows.length / G distinct runs, each exactly G
 * long), else 1.
 */
export function runLength(rows: ArrayLike<number>): number {
  let G = 1;
  while (G < rows.length && rows[G] === rows[0]) G++;
  if (G === 1 || rows.length % G !== 0) return 1;
  for (let i = 0; i < rows.length; i += G) {
    if (i > 0 && rows[i] === rows[i - 1]) return 1;
    for (let j = 1; j < G; j++) if (rows[i + j] !== rows[i]) return 1;
  }
  return G;
}

export class Seq2Seq implements Decodable<Memory, DecoderState> {
  readonly config: Seq2SeqConfig;
  readonly params: Params;
  readonly encoder: Encoder;
  readonly decoder: Decoder;
  readonly bridge: Bridge;

  /** `paramsOptions.expected`: the manifest a saved model will load, checked weight by weight before allocating. */
  constructor(
    config: Partial<Seq2SeqConfig>,
    readonly sourceVocabSize: number,
    readonly targetVocabSize: number,
    paramsOptions: ParamsOptions = {},
  ) {
    const c = resolveSeq2SeqConfig(config);
    validate(c, sourceVocabSize, targetVocabSize);
    this.config = c;
    this.params = new Params(new Rng(c.seed), paramsOptions);
    try {
      ({
        encoder: this.encoder,
        decoder: this.decoder,
        bridge: this.bridge,
      } = this.build(c, sourceVocabSize, targetVocabSize));
    } catch (e) {
      // A weight refused part-way (e.g. against a saved manifest): free those already made.
      this.params.dispose();
      throw e;
    }
  }

  private build(
    c: Seq2SeqConfig,
    sourceVocabSize: number,
    targetVocabSize: number,
  ): { encoder: Encoder; decoder: Decoder; bridge: Bridge } {
    const He = encoderUnits(c);
    const directions = c.bidirectional ? 2 : 1;
    const freezeShared = c.freezeSourceEmbeddings || c.freezeTargetEmbeddings;
    const encoder = new Encoder(
      {
        vocabSize: sourceVocabSize,
        embeddingSize: c.embeddingSize,
        hiddenSize: He,
        cell: c.cell,
        layers: c.encoderLayers,
        bidirectional: c.bidirectional,
        residual: c.residual,
        dropout: c.dropout,
        trainEmbedding: !(c.shareEmbeddings ? freezeShared : c.freezeSourceEmbeddings),
      },
      this.params,
    );
    const decoder = new Decoder(
      {
        vocabSize: targetVocabSize,
        embeddingSize: c.embeddingSize,
        hiddenSize: c.hiddenSize,
        attention: c.attention,
        cell: c.cell,
        memorySize: directions * He,
        attentionSize: c.attentionSize || c.hiddenSize,
        layers: c.decoderLayers,
        residual: c.residual,
        dropout: c.dropout,
        trainEmbedding: !c.freezeTargetEmbeddings,
        ...(c.shareEmbeddings ? { embeddingName: encoder.embeddingName } : {}),
      },
      this.params,
    );
    // Created last, so that the weights of models without a dense bridge are drawn exactly as before it existed.
    const bridge = new Bridge(
      {
        kind: c.bridge,
        encoderLayers: c.encoderLayers,
        encoderWidth: directions * He,
        decoderLayers: c.decoderLayers,
        decoderUnits: c.hiddenSize,
        blocks: stateBlocks(c.cell.kind),
      },
      this.params,
    );
    return { encoder, decoder, bridge };
  }

  /** The source or target embedding table (the same variable when shared), e.g. to load pretrained vectors into. */
  embedding(side: 'source' | 'target'): tf.Variable {
    return this.params.get(side === 'source' ? this.encoder.embeddingName : this.decoder.embeddingName);
  }

  /** Encodes sources into what the decoder reads; `rng` (training only) draws dropout masks. Dispose with `disposeMemory`. */
  encode(batch: SourceBatch, rng: Rng | null = null): Memory {
    return tidyMemory(() => {
      const enc = this.encoder.encode(batch, rng);
      return {
        outputs: enc.outputs,
        maskBias: enc.maskBias,
        keys: this.decoder.attentionKeys(enc.outputs),
        initial: this.bridge.apply(enc.finals),
      };
    });
  }

  /** Teacher-forced logits [B·T_tgt, V], batch-major. */
  logits(batch: Batch): tf.Tensor2D {
    return this.decoder.forward(this.encode(batch), batch.targetIn, batch.targetSteps).logits;
  }

  /** The rng dropout draws from: null unless training with some keep probability below 1. */
  private dropoutRng(context: LossContext): Rng | null {
    const d = this.config.dropout;
    if (!context.training || (d.inputKeep >= 1 && d.outputKeep >= 1 && d.stateKeep >= 1)) return null;
    if (context.rng === undefined)
      throw new Seq2SeqConfigError('training with dropout needs context.rng to draw the masks from');
    return context.rng;
  }

  /**
   * Mean cross-entropy over the real target tokens of the batch. With `context.training` the training-time parts
   * are on (dropout, sampled softmax), drawing their randomness from `context.rng`; without a context it is the
   * evaluation loss (full softmax, no dropout).
   */
  loss(batch: Batch, context: LossContext = { training: false }): tf.Scalar {
    const { size: B, targetSteps: T } = batch;
    const rng = this.dropoutRng(context);
    const { top } = this.decoder.features(this.encode(batch, rng), batch.targetIn, T, rng);
    const { W, b } = this.decoder.outputLayer();
    const targets = toBatchMajor(batch.targetOut, T, B);
    const mask = toBatchMajor(batch.targetMask, T, B);
    // Rows are batch-major, T per sentence: what per-sentence averaging needs to know.
    return sequenceLoss(top, W, b, targets, mask, { ...context.loss, steps: T }, context);
  }

  /**
   * Attention weights under teacher forcing, for inspection: per sentence a [target length (EOS included)][source
   * length] array, row t = the weights with which output token t was predicted, column j = source token j in the
   * original order (reversal and padding undone); each row sums to 1. The batch must be made with this model's
   * `reverseSource`. To see what the model attends to in its own translation, make the batch from the source and
   * the search output. Throws for a model without attention.
   */
  attentionWeights(batch: Batch): number[][][] {
    if (this.config.attention === 'none') throw new Seq2SeqConfigError('this model has no attention (attention: none)');
    const { size: B, targetSteps: Tt } = batch;
    const weights = tf.tidy(() => this.decoder.features(this.encode(batch), batch.targetIn, Tt).weights!);
    // Read outside tf.tidy, which would walk every number of an array handed back from it.
    let all: number[][][];
    try {
      all = weights.arraySync();
    } finally {
      weights.dispose();
    }
    return Array.from({ length: B }, (_, b) => {
      const positions = sourcePositions(batch, b, this.config.reverseSource);
      return all[b]!.slice(0, batch.targetLengths[b]).map((row) => positions.map((p) => row[p]!));
    });
  }

  selectMemory(memory: Memory, rows: Int32Array): Memory {
    // Row i reads source row ⌊rows[i] / G⌋ of this memory. Where those come in runs of one length (a beam's
    // hypotheses), Luong attention keeps one source row per run instead of copying it (Memory.group).
    const G = memory.group ?? 1;
    const sources = G === 1 ? rows : rows.map((r) => Math.floor(r / G));
    const group = this.config.attention === 'dot' || this.config.attention === 'general' ? runLength(sources) : 1;
    const kept = group === 1 ? sources : sources.filter((_, i) => i % group === 0);
    return tidyMemory(() => {
      const index = tf.tensor1d(kept, 'int32');
      return {
        outputs: tf.gather(memory.outputs, index),
        maskBias: tf.gather(memory.maskBias, index),
        keys: memory.keys && tf.gather(memory.keys, index),
        initial: tf.gather(memory.initial, tf.tensor1d(rows, 'int32')),
        group,
      };
    });
  }

  initialState(memory: Memory): DecoderState {
    return { h: tf.clone(memory.initial) };
  }

  step(memory: Memory, state: DecoderState, previous: Int32Array, options: StepOptions = {}): StepOutput<DecoderState> {
    const { scores = 'logProbs', attention = false, rows } = options;
    const [logProbs, h, weights] = tf.tidy(() => {
      const out = this.decoder.step(memory, state, previous, rows);
      const made = [scores === 'logits' ? out.logits : logSoftmaxRows(out.logits), out.state.h];
      if (attention && out.weights !== null) made.push(tf.reshape(out.weights, [previous.length, -1]));
      return made;
    });
    return { logProbs: logProbs!, state: { h: h! }, ...(weights === undefined ? {} : { attention: weights }) };
  }

  joinMemory(a: Memory, b: Memory): Memory {
    return tidyMemory(() => joinMemories(a, b));
  }

  joinState(a: DecoderState, b: DecoderState): DecoderState {
    return { h: tf.concat([a.h, b.h]) };
  }

  selectState(state: DecoderState, indices: Int32Array): DecoderState {
    return { h: tf.tidy(() => tf.gather(state.h, tf.tensor1d(indices, 'int32'))) };
  }

  disposeState(state: DecoderState): void {
    state.h.dispose();
  }

  disposeMemory(memory: Memory): void {
    tf.dispose([memory.outputs, memory.maskBias, memory.initial, ...(memory.keys === null ? [] : [memory.keys])]);
  }

  dispose(): void {
    this.params.dispose();
  }
}
