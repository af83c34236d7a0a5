// Recurrent decoder (GRU by default; a stack of layers, optionally residual, with dropout between them), seeded
// through the bridge with the encoder's final states. Two entry points over the same weights:
//   features/forward: teacher forcing over the whole target (inputs GO y1 … yn) for training;
//   step:             one token at a time for search (greedy, beam), carrying the state.
// The output layer reads h̃ = tanh(W_c [context; s]) with attention (s: the top layer's output), or s itself
// without (the TensorFlow seq2seq tutorial's original model, whose only view of the source is the initial state).
//
// Luong attention ('dot', 'general') reads the top layer's outputs after the recurrence, so teacher-forced
// training runs every layer as one sequence. Bahdanau attention ('bahdanau') feeds the context into the bottom
// layer's input and queries with that layer's previous state (as GNMT: attention from the bottom layer), so the
// bottom layer runs step by step in training too; the layers above it still run as sequences.
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../model/params.js';
import type { Rng } from '../random.js';
import { dense } from '../layers/dense.js';
import { NO_DROPOUT, type DropoutOptions } from '../layers/dropout.js';
import type { RecurrentLayer } from '../recurrent/recurrentLayer.js';
import { hiddenPart } from '../recurrent/rnn.js';
import { RecurrentStack, type BottomRunner } from '../recurrent/stack.js';
import { DEFAULT_CELL, cellGates, type CellOptions } from '../recurrent/cell.js';
import { luongAttention, type AttentionKind } from './attention.js';
import { luongStepFused, luongStepRuns } from './luongStep.js';
import { bahdanauAttention, bahdanauKeys } from './bahdanau.js';

export interface DecoderOptions {
  vocabSize: number;
  /** Embedding width of target tokens. */
  embeddingSize: number;
  /** Recurrent units of every decoder layer. */
  hiddenSize: number;
  /** The recurrent cell (default GRU); the encoder's, so that its states fit. */
  cell?: CellOptions;
  /** 'dot' | 'general' (Luong), 'bahdanau' (additive, context fed into the input), 'none': initial state only. */
  attention: AttentionKind;
  /** Width of the encoder outputs attended over (default hiddenSize). */
  memorySize?: number;
  /** Bahdanau: width of the additive score's hidden layer (default hiddenSize). */
  attentionSize?: number;
  /** Stacked recurrent layers (default 1). */
  layers?: number;
  /** Add each layer's input to its outputs from the second layer on (default false). */
  residual?: boolean;
  /** Keep probabilities; applied only when an rng is given (training). Default: none. */
  dropout?: DropoutOptions;
  /** Name of an existing embedding table to use (shared embeddings); default: create `<prefix>/embedding`. */
  embeddingName?: string;
  /** Whether a table created here is trained (default true). */
  trainEmbedding?: boolean;
}

/**
 * What the decoder reads from the encoded source, one row per sentence (or per beam hypothesis). With `group` G > 1
 * (Luong attention only), each row of outputs, maskBias and keys serves G consecutive decoder rows (a sentence's
 * beam hypotheses), so the source is neither copied G times nor read G times a step: the G rows attend as G
 * target positions of one sentence.
 */
export interface Memory {
  /** [batch / group, T_src, M]: the encoder outputs, zero at padding. */
  outputs: tf.Tensor3D;
  /** [batch / group, 1, T_src]: 0 at real source positions, −1e9 at padding. */
  maskBias: tf.Tensor3D;
  /** Attention keys computed once per source batch ('general', 'bahdanau'), or null ('dot': the outputs; 'none'). */
  keys: tf.Tensor3D | null;
  /** [batch, layers·state]: the decoder's initial state (every layer's, side by side), from the bridge. */
  initial: tf.Tensor2D;
  /** Decoder rows per row of outputs, maskBias and keys (default 1). */
  group?: number;
}

/** What search carries from step to step. */
export interface DecoderState {
  /** [batch, layers·state]: every layer's state side by side (state: H, or [h | c] for an LSTM). */
  h: tf.Tensor2D;
}

/** What attention adds at a padded source step (Memory.maskBias): the encoder's mask value. */
const PADDING_BIAS = -1e9;

/**
 * One memory of `a`'s rows, then `b`'s: the one with fewer source steps is padded at its end with steps that
 * attention cannot see (outputs and keys zero, bias −1e9), so every row's steps keep their positions and its
 * attention its values. Both must share a group; the result is new tensors (the caller disposes a and b).
 */
export function joinMemories(a: Memory, b: Memory): Memory {
  const group = a.group ?? 1;
  if (group !== (b.group ?? 1)) throw new RangeError(`cannot join memories of groups ${group} and ${b.group ?? 1}`);
  if ((a.keys === null) !== (b.keys === null)) throw new RangeError('cannot join a memory with keys to one without');
  const T = Math.max(a.outputs.shape[1], b.outputs.shape[1]);
  // outputs and keys are [rows, T, ·]; maskBias is [rows, 1, T].
  const steps = (x: tf.Tensor3D): tf.Tensor3D =>
    x.shape[1] === T
      ? x
      : tf.pad(x, [
          [0, 0],
          [0, T - x.shape[1]],
          [0, 0],
        ]);
  const bias = (x: tf.Tensor3D): tf.Tensor3D =>
    x.shape[2] === T
      ? x
      : tf.pad(
          x,
          [
            [0, 0],
            [0, 0],
            [0, T - x.shape[2]],
          ],
          PADDING_BIAS,
        );
  return {
    outputs: tf.concat([steps(a.outputs), steps(b.outputs)]),
    maskBias: tf.concat([bias(a.maskBias), bias(b.maskBias)]),
    keys: a.keys === null || b.keys === null ? null : tf.concat([steps(a.keys), steps(b.keys)]),
    initial: tf.concat([a.initial, b.initial]),
    ...(group > 1 ? { group } : {}),
  };
}

export class Decoder {
  /** The recurrent layers, bottom first (one-directional; see RecurrentStack for their weight names). */
  readonly stack: RecurrentStack;
  readonly layers: readonly RecurrentLayer[];
  readonly embeddingName: string;

  constructor(
    readonly options: DecoderOptions,
    private readonly params: Params,
    private readonly prefix = 'decoder',
  ) {
    const { vocabSize: V, embeddingSize: E, hiddenSize: H, attention } = options;
    const cell = options.cell ?? DEFAULT_CELL;
    const M = options.memorySize ?? H;
    const A = options.attentionSize ?? H;
    const k = 1 / Math.sqrt(H);
    this.embeddingName = options.embeddingName ?? `${prefix}/embedding`;
    if (options.embeddingName === undefined)
      params.create(this.embeddingName, [V, E], { kind: 'normal', std: 1 }, options.trainEmbedding ?? true);
    // Layer 0 keeps the one-layer model's names, so models saved before stacks existed still load.
    const dropout = options.dropout ?? NO_DROPOUT;
    const stack = { layers: options.layers ?? 1, residual: options.residual ?? false, dropout };
    this.stack = new RecurrentStack(params, prefix, E, H, cell, stack);
    this.layers = this.stack.layers.map((layer) => layer.forward);
    if (attention === 'general')
      params.create(`${prefix}/attention/Wa`, [M, H], { kind: 'uniform', scale: 1 / Math.sqrt(M) });
    if (attention === 'bahdanau') {
      params.create(`${prefix}/attention/Wk`, [M, A], { kind: 'uniform', scale: 1 / Math.sqrt(M) });
      params.create(`${prefix}/attention/Wq`, [H, A], { kind: 'uniform', scale: k });
      params.create(`${prefix}/attention/v`, [A, 1], { kind: 'uniform', scale: 1 / Math.sqrt(A) });
      // The context's share of the bottom layer's input projection: xp = emb·W + b + context·W_ctx.
      params.create(`${prefix}/context/W`, [M, cellGates(cell.kind) * H], { kind: 'uniform', scale: 1 / Math.sqrt(M) });
    }
    if (attention !== 'none')
      params.create(`${prefix}/attention/Wc`, [M + H, H], { kind: 'uniform', scale: 1 / Math.sqrt(M + H) });
    params.create(`${prefix}/output/W`, [H, V], { kind: 'uniform', scale: k });
    params.create(`${prefix}/output/b`, [V], { kind: 'zeros' });
  }

  /** The bottom layer (the whole decoder of the default model). */
  get rnn(): RecurrentLayer {
    return this.stack.bottom;
  }

  private p<T extends tf.Tensor>(name: string): T {
    return this.params.get(`${this.prefix}/${name}`) as unknown as T;
  }

  /** Attention keys for encoder outputs [B, T_src, M], computed once per source batch (null for 'dot' and 'none'). */
  attentionKeys(outputs: tf.Tensor3D): tf.Tensor3D | null {
    const kind = this.options.attention;
    if (kind === 'bahdanau') return bahdanauKeys(outputs, this.p('attention/Wk'));
    if (kind !== 'general') return null;
    const [B, T, M] = outputs.shape;
    return tf.tidy(() =>
      tf.reshape<tf.Rank.R3>(dense(tf.reshape<tf.Rank.R2>(outputs, [B * T, M]), this.p('attention/Wa'), null), [
        B,
        T,
        this.options.hiddenSize,
      ]),
    );
  }

  /** Layer l's part [B, state] of a stacked state [B, layers·state]. */
  private layerState(state: tf.Tensor2D, l: number): tf.Tensor2D {
    if (this.layers.length === 1) return state;
    const S = this.rnn.stateSize;
    return tf.slice(state, [0, l * S], [state.shape[0], S]);
  }

  /** Luong attention over memory for top-layer outputs [B, T, H] → output-layer inputs [B·T, H] and weights. */
  private luong(states: tf.Tensor3D, memory: Memory): { top: tf.Tensor2D; weights: tf.Tensor3D } {
    const [B, T, H] = states.shape;
    const a = luongAttention(
      states,
      memory.outputs,
      memory.keys ?? memory.outputs,
      memory.maskBias,
      this.p('attention/Wc'),
    );
    return { top: tf.reshape(a.attended, [B * T, H]), weights: a.weights };
  }

  /** Bahdanau's output-layer input h̃ = tanh(W_c [context; s]) from contexts [N, M] and top outputs [N, H]. */
  private bahdanauTop(contexts: tf.Tensor2D, outputs: tf.Tensor2D): tf.Tensor2D {
    return tf.tanh(dense(tf.concat([contexts, outputs], 1), this.p('attention/Wc'), null));
  }

  /** The output projection's weights: logits = top·W + b. */
  outputLayer(): { W: tf.Tensor2D; b: tf.Tensor1D } {
    return { W: this.p('output/W'), b: this.p('output/b') };
  }

  /** Logits [N, V] from output-layer inputs [N, H]. */
  logits(top: tf.Tensor2D): tf.Tensor2D {
    const { W, b } = this.outputLayer();
    return dense(top, W, b);
  }

  /**
   * Teacher forcing. targetIn: [T_tgt·B] time-major decoder inputs (GO y1 … yn PAD …). Returns the output layer's
   * inputs [B·T_tgt, H] in batch-major order (row b·T_tgt + t), before the projection to the vocabulary, so that a
   * loss may project only some columns (sampled softmax), and the attention weights [B, T_tgt, T_src] (null
   * without attention). Positions after EOS run on PAD inputs; the loss masks them. `rng` (training only) draws
   * the dropout masks; null means no dropout.
   */
  features(
    memory: Memory,
    targetIn: Int32Array,
    steps: number,
    rng: Rng | null = null,
  ): { top: tf.Tensor2D; weights: tf.Tensor3D | null } {
    const B = memory.initial.shape[0];
    const T = steps;
    const H = this.options.hiddenSize;
    const table = this.params.get(this.embeddingName) as unknown as tf.Tensor2D;
    const initial = this.layers.map((_, l) => this.layerState(memory.initial, l));
    // Bahdanau attention runs the bottom layer step by step; its contexts and weights are kept here.
    const attended: { contexts?: tf.Tensor2D; weights?: tf.Tensor3D } = {};
    const bottom: BottomRunner | undefined =
      this.options.attention !== 'bahdanau'
        ? undefined
        : (xp, state0, mask) => {
            const r = this.bahdanauSteps(memory, xp, state0, mask, T);
            attended.contexts = r.contexts;
            attended.weights = r.weights;
            return r;
          };
    const run = { steps: T, batch: B, mask: null, rng, initial, finals: false, bottom };
    const { outputs } = this.stack.run({ ids: targetIn, table }, run);
    const out = tf.reshape<tf.Rank.R2>(outputs, [T * B, H]); // time-major
    const kind = this.options.attention;
    if (kind === 'bahdanau') {
      const top = tf.transpose(tf.reshape(this.bahdanauTop(attended.contexts!, out), [T, B, H]), [1, 0, 2]);
      return { top: tf.reshape(top, [B * T, H]), weights: attended.weights! };
    }
    const states = tf.transpose<tf.Tensor3D>(tf.reshape(out, [T, B, H]), [1, 0, 2]); // [B, T, H]
    if (kind === 'none') return { top: tf.reshape(states, [B * T, H]), weights: null };
    return this.luong(states, memory);
  }

  /**
   * The bottom layer under Bahdanau attention, step by step with gradients: each step attends with the previous
   * state, adds context·W_ctx to the token's input projection xp [T·B, gates·H], and advances the cell.
   * Returns outputs [T·B, H], contexts [T·B, M] (time-major), weights [B, T, T_src] and the last state.
   */
  private bahdanauSteps(memory: Memory, xp: tf.Tensor2D, state0: tf.Tensor2D, mask: tf.Tensor2D | null, T: number) {
    const H = this.options.hiddenSize;
    const layer = this.rnn;
    // split, not per-step slices: its gradient is one concat rather than T zero-padded copies.
    const inputs = tf.split<tf.Tensor2D>(xp, T, 0);
    const outputs: tf.Tensor2D[] = [];
    const contexts: tf.Tensor2D[] = [];
    const weights: tf.Tensor2D[] = [];
    let state = state0;
    for (let t = 0; t < T; t++) {
      const a = this.bahdanau(hiddenPart(state, H), memory);
      state = layer.trainStep(tf.add(inputs[t]!, dense(a.context, this.p('context/W'), null)), state, mask);
      outputs.push(hiddenPart(state, H));
      contexts.push(a.context);
      weights.push(a.weights);
    }
    return {
      outputs: tf.concat<tf.Tensor2D>(outputs, 0),
      contexts: tf.concat<tf.Tensor2D>(contexts, 0),
      weights: tf.stack(weights, 1) as tf.Tensor3D,
      final: state,
    };
  }

  private bahdanau(query: tf.Tensor2D, memory: Memory) {
    return bahdanauAttention(
      query,
      this.p('attention/Wq'),
      this.p('attention/v'),
      memory.keys!,
      memory.outputs,
      memory.maskBias,
    );
  }

  /** Teacher forcing: logits [B·T_tgt, V], batch-major (see `features`). */
  forward(
    memory: Memory,
    targetIn: Int32Array,
    steps: number,
    rng: Rng | null = null,
  ): { logits: tf.Tensor2D; weights: tf.Tensor3D | null } {
    const { top, weights } = this.features(memory, targetIn, steps, rng);
    return { logits: this.logits(top), weights };
  }

  initialState(memory: Memory): DecoderState {
    return { h: memory.initial };
  }

  /**
   * One step: previous tokens [B] → new state and logits [B, V] (and attention weights [B, 1, T_src]). With `rows`,
   * logits for those rows only, in that order: the output layer, the largest product of a step, skips the others.
   */
  step(
    memory: Memory,
    state: DecoderState,
    previous: Int32Array,
    rows?: Int32Array,
  ): { state: DecoderState; logits: tf.Tensor2D; weights: tf.Tensor3D | null } {
    const B = previous.length;
    const H = this.options.hiddenSize;
    const project = (top: tf.Tensor2D): tf.Tensor2D =>
      this.logits(rows === undefined ? top : tf.gather(top, tf.tensor1d(rows, 'int32')));
    let xp = this.rnn.projectTokens(this.params.get(this.embeddingName) as unknown as tf.Tensor2D, previous);
    const states = this.layers.map((_, l) => this.layerState(state.h, l));
    const bahdanau = this.options.attention === 'bahdanau' ? this.bahdanau(hiddenPart(states[0]!, H), memory) : null;
    if (bahdanau !== null) xp = tf.add(xp, dense(bahdanau.context, this.p('context/W'), null));
    const { states: nexts, top } = this.stack.step(xp, states);
    const next = { h: nexts.length === 1 ? nexts[0]! : tf.concat<tf.Tensor2D>(nexts, 1) };
    if (bahdanau !== null)
      return {
        state: next,
        logits: project(this.bahdanauTop(bahdanau.context, top)),
        weights: tf.reshape<tf.Rank.R3>(bahdanau.weights, [B, 1, -1]),
      };
    if (this.options.attention === 'none') return { state: next, logits: project(top), weights: null };
    if (luongStepRuns(H)) {
      const a = luongStepFused(
        top,
        memory.keys ?? memory.outputs,
        memory.outputs,
        memory.maskBias,
        this.p('attention/Wc'),
      );
      return { state: next, logits: project(a.attended), weights: tf.reshape<tf.Rank.R3>(a.weights, [B, 1, -1]) };
    }
    // A group's rows attend as that many target positions of one sentence: [B / G, G, H].
    const G = memory.group ?? 1;
    const out = this.luong(tf.reshape<tf.Rank.R3>(top, [B / G, G, H]), memory);
    return { state: next, logits: project(out.top), weights: tf.reshape<tf.Rank.R3>(out.weights, [B, 1, -1]) };
  }
}
