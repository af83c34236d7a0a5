// decodeStepwise, the loop greedy decoding and sampling share, on a hand-built model that records every call:
// GO first, the picked ids fed back, the step limit obeyed, the scores kind passed on, finished rows retired (and
// each remaining row still reading its own sentence's memory), and memory, states and log-probs freed however the
// loop ends. And maxLengths, tiledRows and shouldRetire.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { useTestBackend } from '../helpers/backend.js';
import {
  decodeStepwise,
  maxLengths,
  MAX_OUTPUT_LENGTH,
  shouldRetire,
  tiledRows,
  type Decodable,
  type Picked,
  type StepOptions,
  type StepScores,
} from '../../src/search/decodable.js';
import { makeSourceBatch } from '../../src/data/text/batch.js';
import { GO } from '../../src/data/text/vocabulary.js';
import { fuzzRuns } from '../fuzz/settings.js';

beforeAll(useTestBackend);

const V = 7;

/**
 * Memory: each row's sentence index [rows, 1]. State: the steps taken [rows, 1]. Every log-probs row is a uniform
 * distribution; the model records what it was given and which of its tensors are alive.
 */
class RecordingModel implements Decodable<tf.Tensor2D, tf.Tensor2D> {
  readonly previous: number[][] = [];
  /** Per step, the sentence each row's memory belongs to. */
  readonly memoryRows: number[][] = [];
  readonly scores: (StepScores | undefined)[] = [];
  readonly liveStates = new Set<tf.Tensor2D>();
  readonly liveMemories = new Set<tf.Tensor2D>();
  readonly logProbs: tf.Tensor2D[] = [];
  encodes = 0;

  encode(batch: { size: number }): tf.Tensor2D {
    this.encodes++;
    return this.memory(
      tf.tensor2d(
        Array.from({ length: batch.size }, (_, b) => b),
        [batch.size, 1],
      ),
    );
  }
  selectMemory(memory: tf.Tensor2D, rows: Int32Array): tf.Tensor2D {
    expect(this.liveMemories.has(memory)).toBe(true);
    return this.memory(tf.tidy(() => tf.gather(memory, tf.tensor1d(rows, 'int32'))));
  }
  initialState(memory: tf.Tensor2D): tf.Tensor2D {
    return this.state(tf.zeros<tf.Rank.R2>([memory.shape[0], 1]));
  }
  step(memory: tf.Tensor2D, state: tf.Tensor2D, previous: Int32Array, options?: StepOptions) {
    expect(this.liveMemories.has(memory)).toBe(true);
    expect(this.liveStates.has(state)).toBe(true);
    expect(state.shape[0]).toBe(memory.shape[0]);
    expect(previous.length).toBe(memory.shape[0]);
    this.previous.push(Array.from(previous));
    this.memoryRows.push(Array.from(memory.dataSync()));
    this.scores.push(options?.scores ?? 'logProbs');
    const logProbs = tf.fill<tf.Rank.R2>([memory.shape[0], V], -Math.log(V));
    this.logProbs.push(logProbs);
    return { logProbs, state: this.state(tf.add<tf.Tensor2D>(state, 1)) };
  }
  selectState(state: tf.Tensor2D, indices: Int32Array): tf.Tensor2D {
    expect(this.liveStates.has(state)).toBe(true);
    return this.state(tf.tidy(() => tf.gather(state, tf.tensor1d(indices, 'int32'))));
  }
  disposeState(state: tf.Tensor2D): void {
    if (!this.liveStates.delete(state)) throw new Error("a state disposed twice, or not one of the model's");
    state.dispose();
  }
  disposeMemory(memory: tf.Tensor2D): void {
    if (!this.liveMemories.delete(memory)) throw new Error('memory disposed twice');
    memory.dispose();
  }
  allFreed(): boolean {
    return this.liveStates.size === 0 && this.liveMemories.size === 0 && this.logProbs.every((t) => t.isDisposed);
  }
  private memory(m: tf.Tensor2D): tf.Tensor2D {
    this.liveMemories.add(m);
    return m;
  }
  private state(s: tf.Tensor2D): tf.Tensor2D {
    this.liveStates.add(s);
    return s;
  }
}

const batch = makeSourceBatch([[4, 5], [6], [4, 4, 4]]);
const allLive = (rows: number, live = true): Picked => ({
  ids: new Int32Array(rows),
  live: new Uint8Array(rows).fill(live ? 1 : 0),
});

describe('decodeStepwise', () => {
  it('starts every row from GO and feeds back what pick chose; t counts the steps', () => {
    const model = new RecordingModel();
    const ts: number[] = [];
    const shapes: number[][] = [];
    decodeStepwise(model, batch, 10, (logProbs, t, sentences) => {
      ts.push(t);
      shapes.push(logProbs.shape);
      expect(Array.from(sentences)).toEqual([0, 1, 2]);
      expect(logProbs.isDisposed).toBe(false);
      return { ids: Int32Array.from([10 + t, 20 + t, 30 + t]), live: new Uint8Array(3).fill(t < 3 ? 1 : 0) };
    });
    expect(ts).toEqual([0, 1, 2, 3]);
    expect(shapes).toEqual(Array(4).fill([3, V]));
    expect(model.previous).toEqual([
      [GO, GO, GO],
      [10, 20, 30],
      [11, 21, 31],
      [12, 22, 32],
    ]);
    expect(model.encodes).toBe(1);
    expect(model.allFreed()).toBe(true);
  });

  it('passes the scores kind on to every step (default log-probabilities)', () => {
    const a = new RecordingModel();
    decodeStepwise(a, batch, 2, () => allLive(3));
    expect(a.scores).toEqual(['logProbs', 'logProbs']);
    const b = new RecordingModel();
    decodeStepwise(b, batch, 2, () => allLive(3), { scores: 'logits' });
    expect(b.scores).toEqual(['logits', 'logits']);
  });

  it('stops after `steps` steps, or as soon as pick leaves no row going on; 0 steps still encodes and frees', () => {
    fc.assert(
      fc.property(fc.nat({ max: 8 }), fc.nat({ max: 8 }), (steps, endAt) => {
        const model = new RecordingModel();
        let calls = 0;
        decodeStepwise(model, batch, steps, (_, t, sentences) => {
          calls++;
          return allLive(sentences.length, t < endAt);
        });
        expect(calls).toBe(Math.min(steps, endAt + 1));
        expect(model.previous).toHaveLength(calls);
        expect(model.encodes).toBe(1);
        expect(model.allFreed()).toBe(true);
      }),
      fuzzRuns(60),
    );
  });

  it('drops finished rows from the batch: later steps see only the rest, fed back their own ids', () => {
    const model = new RecordingModel();
    const seen: number[][] = [];
    decodeStepwise(model, batch, 10, (_, t, sentences) => {
      seen.push(Array.from(sentences));
      // Sentence 1 ends at step 1, the others at step 3; each row's id names its sentence and step.
      const ids = Int32Array.from(sentences, (b) => 100 * b + t);
      return { ids, live: Uint8Array.from(sentences, (b) => ((b === 1 ? t < 1 : t < 3) ? 1 : 0)) };
    });
    expect(seen).toEqual([
      [0, 1, 2],
      [0, 1, 2],
      [0, 2],
      [0, 2],
    ]);
    expect(model.previous).toEqual([
      [GO, GO, GO],
      [0, 100, 200],
      [1, 201],
      [2, 202],
    ]);
    expect(model.memoryRows).toEqual(seen);
    expect(model.allFreed()).toBe(true);
  });

  it('keeps a finished row while fewer than a quarter of the rows are finished', () => {
    const model = new RecordingModel();
    const eight = makeSourceBatch(Array.from({ length: 8 }, () => [4]));
    const seen: number[] = [];
    decodeStepwise(model, eight, 10, (_, t, sentences) => {
      seen.push(sentences.length);
      // One more sentence ends at every step.
      return { ids: new Int32Array(sentences.length), live: Uint8Array.from(sentences, (b) => (b > t ? 1 : 0)) };
    });
    // After steps 0 and 1, 1 and 2 of 8 are done: 2 is a quarter, so they go; then 6 rows, and so on.
    expect(seen).toEqual([8, 8, 6, 6, 4, 3, 2, 1]);
    expect(model.allFreed()).toBe(true);
  });

  it('every row reads its own sentence’s memory, whichever rows finish when (random finishing steps)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 9 }), { minLength: 1, maxLength: 12 }), (ends) => {
        const model = new RecordingModel();
        const source = makeSourceBatch(ends.map(() => [4]));
        const fedBack: number[][] = [];
        decodeStepwise(model, source, 20, (_, t, sentences) => {
          const ids = Int32Array.from(sentences, (b) => 1000 * t + b);
          fedBack.push(Array.from(ids));
          return { ids, live: Uint8Array.from(sentences, (b) => (t < ends[b]! ? 1 : 0)) };
        });
        expect(model.previous).toHaveLength(Math.max(...ends) + 1);
        model.memoryRows.forEach((rows, t) => {
          expect([...rows].sort((a, b) => a - b)).toEqual(rows); // sentence order kept
          for (let b = 0; b < ends.length; b++) if (ends[b]! >= t) expect(rows).toContain(b); // no live row lost
          if (t > 0) expect(model.previous[t]).toEqual(rows.map((b) => 1000 * (t - 1) + b));
        });
        expect(model.allFreed()).toBe(true);
      }),
      fuzzRuns(60),
    );
  });

  it('an empty batch takes no step', () => {
    const model = new RecordingModel();
    decodeStepwise(model, makeSourceBatch([]), 5, () => {
      throw new Error('no step expected');
    });
    expect(model.previous).toEqual([]);
    expect(model.allFreed()).toBe(true);
  });

  it("frees memory, state and the step's log-probs when pick throws, and passes the error on", () => {
    const model = new RecordingModel();
    const before = tf.memory().numTensors;
    expect(() =>
      decodeStepwise(model, batch, 5, (_, t, sentences) => {
        if (t === 2) throw new Error('pick failed at step 2');
        return { ids: new Int32Array(sentences.length), live: Uint8Array.from(sentences, (b) => (b === 0 ? 0 : 1)) };
      }),
    ).toThrow('pick failed at step 2');
    expect(model.previous).toHaveLength(3);
    expect(model.allFreed()).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("frees memory and state when the model's step throws", () => {
    const model = new RecordingModel();
    const step = model.step.bind(model);
    let n = 0;
    model.step = (...args) => {
      if (++n === 3) throw new Error('step failed');
      return step(...args);
    };
    const before = tf.memory().numTensors;
    const run = (): void => decodeStepwise(model, batch, 5, (_, _t, s) => allLive(s.length));
    expect(run).toThrow('step failed');
    expect(model.allFreed()).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaves the live tensor count where it was after a normal run, rows retired or not', () => {
    const model = new RecordingModel();
    const before = tf.memory().numTensors;
    const argmax = (lp: tf.Tensor2D): Int32Array => tf.tidy(() => tf.argMax(lp, 1).dataSync() as Int32Array);
    decodeStepwise(model, batch, 6, (lp, t, sentences) => ({
      ids: argmax(lp),
      live: Uint8Array.from(sentences, (b) => (b + t < 5 ? 1 : 0)),
    }));
    expect(model.previous.length).toBeGreaterThan(2);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('tiledRows and shouldRetire', () => {
  it('tiledRows repeats each row index `times` times in a row', () => {
    expect(Array.from(tiledRows(3, 2))).toEqual([0, 0, 1, 1, 2, 2]);
    expect(Array.from(tiledRows(2, 1))).toEqual([0, 1]);
    expect(tiledRows(0, 5)).toHaveLength(0);
  });

  it('shouldRetire: never with nothing finished, from a quarter of the batch on', () => {
    expect(shouldRetire(0, 1)).toBe(false);
    expect(shouldRetire(1, 1)).toBe(true);
    expect(shouldRetire(1, 4)).toBe(true);
    expect(shouldRetire(1, 5)).toBe(false);
    expect(shouldRetire(15, 64)).toBe(false);
    expect(shouldRetire(16, 64)).toBe(true);
  });
});

describe('maxLengths', () => {
  it('repeats one limit for every sentence', () => {
    expect(maxLengths(7, 3)).toEqual(Int32Array.from([7, 7, 7]));
    expect(maxLengths(7, 0)).toEqual(new Int32Array(0));
  });

  it('refuses what an Int32Array would silently turn into another limit: NaN, ∞, fractions, negatives, ≥ 2^31', () => {
    // NaN and ∞ used to become 0 (an empty output for every sentence), 2^32 + 5 became 5.
    for (const bad of [NaN, Infinity, -Infinity, 2.5, -1, 2 ** 31, 2 ** 32 + 5]) {
      expect(() => maxLengths(bad, 2)).toThrow(RangeError);
      expect(() => maxLengths([4, bad], 2)).toThrow(/maxLength must be a whole number of tokens from 0 to 2147483647/);
    }
    expect(maxLengths(MAX_OUTPUT_LENGTH, 1)).toEqual(Int32Array.from([MAX_OUTPUT_LENGTH]));
  });

  it('refuses per-sentence limits that do not match the batch', () => {
    expect(() => maxLengths([3, 4], 3)).toThrow(/2 limits for a batch of 3 sentences/);
    expect(() => maxLengths([3, 4, 5, 6], 3)).toThrow(RangeError);
  });

  it('copies per-sentence limits into a new Int32Array (from arrays and typed arrays alike)', () => {
    const limits = [3, 0, 12];
    const got = maxLengths(limits, 3);
    expect(got).toBeInstanceOf(Int32Array);
    expect(Array.from(got)).toEqual(limits);
    got[0] = 99;
    expect(limits[0]).toBe(3);
    const typed = Int32Array.from([5, 6]);
    const copy = maxLengths(typed, 2);
    expect(copy).not.toBe(typed);
    expect(copy).toEqual(typed);
  });
});
