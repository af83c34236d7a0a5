// decodeStepwise, the loop greedy decoding and sampling share, on a hand-built model that records every call:
// GO first, the picked ids fed back, the step limit and `remaining` obeyed, the scores kind passed on, and memory,
// states and log-probs freed however the loop ends. And maxLengths.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { useTestBackend } from '../helpers/backend.js';
import { decodeStepwise, maxLengths, type Decodable, type StepScores } from '../../src/search/decodable.js';
import { makeSourceBatch } from '../../src/data/text/batch.js';
import { GO } from '../../src/data/text/vocabulary.js';
import { fuzzRuns } from '../fuzz/settings.js';

beforeAll(useTestBackend);

const V = 7;

/**
 * Memory: the source lengths [B, 1]. State: the steps taken [rows, 1]. Step i's log-probs row r is a uniform
 * distribution; the model records what it was given and which of its tensors are alive.
 */
class RecordingModel implements Decodable<tf.Tensor2D, tf.Tensor2D> {
  readonly previous: number[][] = [];
  readonly scores: (StepScores | undefined)[] = [];
  readonly liveStates = new Set<tf.Tensor2D>();
  readonly liveMemories = new Set<tf.Tensor2D>();
  readonly logProbs: tf.Tensor2D[] = [];
  encodes = 0;

  encode(batch: { size: number; sourceLengths: Int32Array }): tf.Tensor2D {
    this.encodes++;
    const m = tf.tensor2d(Array.from(batch.sourceLengths), [batch.size, 1]);
    this.liveMemories.add(m);
    return m;
  }
  tileMemory(): tf.Tensor2D {
    throw new Error('decodeStepwise keeps one row per sentence: it never tiles');
  }
  initialState(memory: tf.Tensor2D): tf.Tensor2D {
    const s = tf.zeros<tf.Rank.R2>([memory.shape[0], 1]);
    this.liveStates.add(s);
    return s;
  }
  step(memory: tf.Tensor2D, state: tf.Tensor2D, previous: Int32Array, scores?: StepScores) {
    expect(this.liveMemories.has(memory)).toBe(true);
    expect(this.liveStates.has(state)).toBe(true);
    this.previous.push(Array.from(previous));
    this.scores.push(scores);
    const logProbs = tf.fill<tf.Rank.R2>([memory.shape[0], V], -Math.log(V));
    this.logProbs.push(logProbs);
    const next = tf.add<tf.Tensor2D>(state, 1);
    this.liveStates.add(next);
    return { logProbs, state: next };
  }
  selectState(): tf.Tensor2D {
    throw new Error('decodeStepwise never reorders rows');
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
}

const batch = makeSourceBatch([[4, 5], [6], [4, 4, 4]]);

describe('decodeStepwise', () => {
  it('starts every row from GO and feeds back what pick chose; t counts the steps', () => {
    const model = new RecordingModel();
    const ts: number[] = [];
    const shapes: number[][] = [];
    decodeStepwise(model, batch, 10, (logProbs, t) => {
      ts.push(t);
      shapes.push(logProbs.shape);
      expect(logProbs.isDisposed).toBe(false);
      return { ids: Int32Array.from([10 + t, 20 + t, 30 + t]), remaining: t < 3 ? 3 : 0 };
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
    decodeStepwise(a, batch, 2, () => ({ ids: new Int32Array(3), remaining: 3 }));
    expect(a.scores).toEqual(['logProbs', 'logProbs']);
    const b = new RecordingModel();
    decodeStepwise(b, batch, 2, () => ({ ids: new Int32Array(3), remaining: 3 }), 'logits');
    expect(b.scores).toEqual(['logits', 'logits']);
  });

  it('stops after `steps` steps, or as soon as pick leaves no sentence; 0 steps still encodes and frees', () => {
    fc.assert(
      fc.property(fc.nat({ max: 8 }), fc.nat({ max: 8 }), (steps, endAt) => {
        const model = new RecordingModel();
        let calls = 0;
        decodeStepwise(model, batch, steps, (_, t) => {
          calls++;
          return { ids: new Int32Array(3), remaining: t >= endAt ? 0 : 2 };
        });
        expect(calls).toBe(Math.min(steps, endAt + 1));
        expect(model.previous).toHaveLength(calls);
        expect(model.encodes).toBe(1);
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
      decodeStepwise(model, batch, 5, (_, t) => {
        if (t === 2) throw new Error('pick failed at step 2');
        return { ids: new Int32Array(3), remaining: 3 };
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
    const run = (): void => decodeStepwise(model, batch, 5, () => ({ ids: new Int32Array(3), remaining: 3 }));
    expect(run).toThrow('step failed');
    expect(model.allFreed()).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaves the live tensor count where it was after a normal run', () => {
    const model = new RecordingModel();
    const before = tf.memory().numTensors;
    const argmax = (lp: tf.Tensor2D): Int32Array => tf.tidy(() => tf.argMax(lp, 1).dataSync() as Int32Array);
    decodeStepwise(model, batch, 6, (lp) => ({ ids: argmax(lp), remaining: 3 }));
    expect(model.previous).toHaveLength(6);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('maxLengths', () => {
  it('repeats one limit for every sentence', () => {
    expect(maxLengths(7, 3)).toEqual(Int32Array.from([7, 7, 7]));
    expect(maxLengths(7, 0)).toEqual(new Int32Array(0));
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
