// The decoder's two entry points over the same weights (teacher-forced features, one step at a time for search),
// its weight names, the equations of the plain GRU decoder in float64, dropout, finite-difference gradients and the
// live tensor count.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { checkVariableGradients } from '../helpers/gradientCheck.js';
import { gruStepRef, matVec, type Mat } from '../helpers/reference.js';
import { Decoder, type DecoderOptions, type Memory } from '../../src/decoder/decoder.js';
import type { AttentionKind } from '../../src/decoder/attention.js';
import { Params } from '../../src/model/params.js';
import { Rng } from '../../src/random.js';
import { DEFAULT_CELL } from '../../src/recurrent/cell.js';

beforeAll(useTestBackend);

const V = 11,
  E = 3,
  H = 4,
  M = 6,
  B = 3,
  TS = 5,
  T = 4;
const KINDS: AttentionKind[] = ['none', 'dot', 'general', 'bahdanau'];
// Time-major decoder inputs [T·B]: GO (1) then target tokens, PAD (0) after a sentence's end.
const TARGET_IN = Int32Array.from([1, 1, 1, 5, 6, 7, 8, 9, 0, 10, 2, 0]);
const DROP = { inputKeep: 0.7, outputKeep: 0.8, stateKeep: 0.6 };

function build(o: Partial<DecoderOptions>, seed = 1) {
  const params = new Params(new Rng(seed));
  const attention = o.attention ?? 'none';
  // 'dot' scores need the memory as wide as the decoder state.
  const memorySize = attention === 'dot' ? H : M;
  const decoder = new Decoder({ vocabSize: V, embeddingSize: E, hiddenSize: H, attention, memorySize, ...o }, params);
  const R = new Rng(seed + 100);
  const S = decoder.rnn.stateSize * (o.layers ?? 1);
  const outputs = tf.tensor3d(
    Array.from({ length: B * TS * memorySize }, () => R.uniform(-1, 1)),
    [B, TS, memorySize],
  );
  const bias = new Float32Array(B * TS);
  bias[4] = -1e9; // sentence 0 is 4 source tokens long, sentence 1 three
  bias[8] = bias[9] = -1e9;
  const maskBias = tf.tensor3d(bias, [B, 1, TS]);
  const initial = tf.tensor2d(
    Array.from({ length: B * S }, () => R.uniform(-1, 1)),
    [B, S],
  );
  const memory = (): Memory => ({ outputs, maskBias, keys: decoder.attentionKeys(outputs), initial });
  const dispose = () => {
    tf.dispose([outputs, maskBias, initial]);
    params.dispose();
  };
  return { decoder, params, memory, dispose };
}

describe('Decoder weights', () => {
  it("are created in the saved models' order and names: embedding, layers (layer 0 unprefixed), attention, output", () => {
    const layer = (p: string) => [`${p}/W`, `${p}/b`, `${p}/U`, `${p}/c`];
    const attention: Record<AttentionKind, string[]> = {
      none: [],
      dot: ['attention/Wc'],
      general: ['attention/Wa', 'attention/Wc'],
      bahdanau: ['attention/Wk', 'attention/Wq', 'attention/v', 'context/W', 'attention/Wc'],
    };
    for (const kind of KINDS) {
      const { params, dispose } = build({ attention: kind, layers: 2 });
      const names = params.entries().map(([n]) => n);
      const want = ['decoder/embedding', ...layer('decoder'), ...layer('decoder/layer1')];
      want.push(...attention[kind].map((n) => `decoder/${n}`), 'decoder/output/W', 'decoder/output/b');
      expect(names).toEqual(want);
      dispose();
    }
  });
});

describe('Decoder without attention, one GRU layer', () => {
  it('teacher forcing gives the float64 GRU equations from the initial state, then the output projection', () => {
    const { decoder, params, memory, dispose } = build({});
    const get = (n: string) => params.get(`decoder/${n}`).arraySync();
    const [table, W, U, b, c, Wo, bo] = ['embedding', 'W', 'U', 'b', 'c', 'output/W', 'output/b'].map(get) as [
      Mat,
      Mat,
      Mat,
      number[],
      number[],
      Mat,
      number[],
    ];
    const initial = memory().initial.arraySync();
    const logits = tf.tidy(() => decoder.forward(memory(), TARGET_IN, T).logits.arraySync());
    for (let s = 0; s < B; s++) {
      let h = initial[s]!;
      for (let t = 0; t < T; t++) {
        h = gruStepRef(table[TARGET_IN[t * B + s]!]!, h, W, U, b, c);
        const want = matVec(h, Wo).map((v, j) => v + bo[j]!);
        want.forEach((v, j) => expect(logits[s * T + t]![j]).toBeCloseTo(v, 4)); // batch-major rows
      }
    }
    dispose();
  });
});

const variants: [string, Partial<DecoderOptions>][] = [
  ['1-layer GRU', {}],
  ['3-layer residual GRU', { layers: 3, residual: true }],
  ['2-layer residual LSTM', { layers: 2, residual: true, cell: { ...DEFAULT_CELL, kind: 'lstm' } }],
];

const cases = KINDS.flatMap((kind) =>
  variants.map(([name, o]) => [`${name}, ${kind}`, { ...o, attention: kind }] as const),
);

describe.each(cases)('Decoder, %s', (_, options) => {
  it('stepping token by token gives the teacher-forced logits and attention weights', () => {
    const { decoder, memory, dispose } = build(options);
    tf.tidy(() => {
      const mem = memory();
      const forced = decoder.forward(mem, TARGET_IN, T);
      const logits = forced.logits.arraySync();
      const weights = forced.weights?.arraySync() ?? null;
      let state = decoder.initialState(mem);
      for (let t = 0; t < T; t++) {
        const r = decoder.step(mem, state, TARGET_IN.slice(t * B, (t + 1) * B));
        state = r.state;
        const got = r.logits.arraySync();
        for (let s = 0; s < B; s++) got[s]!.forEach((v, j) => expect(v).toBeCloseTo(logits[s * T + t]![j]!, 4));
        if (weights === null) expect(r.weights).toBeNull();
        else {
          r.weights!.arraySync().forEach((row, s) =>
            row[0]!.forEach((v, k) => expect(v).toBeCloseTo(weights[s]![t]![k]!, 5)),
          );
        }
      }
      expect(state.h.shape).toEqual(mem.initial.shape);
    });
    dispose();
  });
});

describe('Decoder dropout', () => {
  const options: Partial<DecoderOptions> = { attention: 'bahdanau', layers: 2, residual: true, dropout: DROP };

  it('applies only with an rng: the same rng state gives the same features, another state others', () => {
    const { decoder, memory, dispose } = build(options);
    const top = (rng: Rng | null) => tf.tidy(() => decoder.features(memory(), TARGET_IN, T, rng).top.arraySync());
    const plain = top(null);
    const again = build({ ...options, dropout: undefined });
    expect(tf.tidy(() => again.decoder.features(again.memory(), TARGET_IN, T).top.arraySync())).toEqual(plain);
    again.dispose();
    expect(top(new Rng(7))).toEqual(top(new Rng(7)));
    expect(top(new Rng(7))).not.toEqual(top(new Rng(8)));
    expect(top(new Rng(7))).not.toEqual(plain);
    dispose();
  });

  for (const kind of ['general', 'bahdanau'] as const) {
    it(`${kind}: gradients of every weight through fixed masks match finite differences`, () => {
      const { decoder, params, memory, dispose } = build({ ...options, attention: kind }, 3);
      const state = new Rng(21).getState();
      const R = new Rng(5);
      const proj = tf.tensor2d(
        Array.from({ length: B * T * V }, () => R.uniform(-1, 1)),
        [B * T, V],
      );
      const loss = () => {
        const { logits } = decoder.forward(memory(), TARGET_IN, T, new Rng(state)); // the same masks every time
        return tf.sum<tf.Scalar>(tf.mul(logits, proj));
      };
      checkVariableGradients(loss, params.entries(), { samples: 3 });
      proj.dispose();
      dispose();
    });
  }

  it('leaves the live tensor count flat across training steps (features with gradients) and search steps', () => {
    const { decoder, params, memory, dispose } = build(options);
    const vars = params.entries().map(([, v]) => v);
    const once = () => {
      const loss = () => tf.sum<tf.Scalar>(decoder.forward(memory(), TARGET_IN, T, new Rng(1)).logits);
      const { value, grads } = tf.variableGrads(loss, vars);
      tf.dispose([value, ...Object.values(grads)]);
      tf.tidy(() => {
        const mem = memory();
        const first = decoder.step(mem, decoder.initialState(mem), Int32Array.from([1, 1, 1]));
        decoder.step(mem, first.state, Int32Array.from([4, 5, 6]));
      });
    };
    once(); // warm-up: the projected embedding table is kept with the weights
    const before = tf.memory().numTensors;
    once();
    once();
    expect(tf.memory().numTensors).toBe(before);
    dispose();
  });
});
