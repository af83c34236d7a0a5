import { describe, it, expect } from 'vitest';
import { LearningRateSchedule, cosineLearningRate } from '../../src/train/schedule.js';
import { MetricTracker } from '../../src/train/earlyStopping.js';

describe('LearningRateSchedule', () => {
  it("loss-rise: the tutorial's rule, ×0.99 when a period's loss is above the largest of the last three", () => {
    const s = new LearningRateSchedule(0.5, { kind: 'loss-rise' }, 100);
    // Fewer than three previous periods: no decay yet, however the loss moves.
    expect([5, 6, 7].map((l) => s.afterInterval(l))).toEqual([false, false, false]);
    expect(s.afterInterval(6.5)).toBe(false); // 6.5 ≤ max(5, 6, 7)
    expect(s.afterInterval(7.2)).toBe(true); // 7.2 > max(6, 7, 6.5)
    expect(s.rate(50)).toBeCloseTo(0.495, 12);
    expect(s.afterInterval(7.1)).toBe(false); // 7.1 ≤ max(7, 6.5, 7.2)
    expect(s.getState().decays).toBe(1);
  });

  it('plateau: ×factor after `patience` evaluations without improvement, floored at minLearningRate', () => {
    const s = new LearningRateSchedule(1, { kind: 'plateau', patience: 2, factor: 0.1, minLearningRate: 0.05 }, 100);
    expect(s.afterEvaluation(true)).toBe(false);
    expect(s.afterEvaluation(false)).toBe(false);
    expect(s.afterEvaluation(false)).toBe(true);
    expect(s.rate(1)).toBeCloseTo(0.1, 12);
    s.afterEvaluation(false);
    s.afterEvaluation(false);
    expect(s.rate(1)).toBe(0.05);
  });

  it('cosine: from the initial rate at step 1 to finalShare × it at the last step, half-way at the middle', () => {
    const s = new LearningRateSchedule(2, { kind: 'cosine', finalShare: 0.1 }, 101);
    expect(s.rate(1)).toBeCloseTo(2, 12);
    expect(s.rate(51)).toBeCloseTo(2 * (0.1 + 0.9 * 0.5), 12);
    expect(s.rate(101)).toBeCloseTo(0.2, 12);
    expect(cosineLearningRate(1, 0, 1, 1)).toBe(0);
  });

  it('cosine past its last step (a run resumed for more steps) stays at the final rate instead of rising again', () => {
    expect(cosineLearningRate(1, 0.1, 10, 10)).toBeCloseTo(0.1, 12);
    for (const step of [11, 15, 19, 100]) expect(cosineLearningRate(1, 0.1, step, 10)).toBeCloseTo(0.1, 12);
  });

  it('state round-trips: a restored schedule decays exactly as the original', () => {
    const a = new LearningRateSchedule(1, { kind: 'loss-rise', window: 2 }, 10);
    [3, 2, 2.5].forEach((l) => a.afterInterval(l));
    const b = new LearningRateSchedule(1, { kind: 'loss-rise', window: 2 }, 10);
    b.setState(JSON.parse(JSON.stringify(a.getState())));
    expect(b.afterInterval(2.6)).toBe(a.afterInterval(2.6));
    expect(b.rate(1)).toBe(a.rate(1));
  });
});

describe('MetricTracker', () => {
  it('tracks the best value by direction and stops after `patience` evaluations without improvement', () => {
    const t = new MetricTracker('bleu', 'higher', { patience: 2, minDelta: 0.5 });
    expect(t.update(10, 100)).toEqual({ improved: true, stop: false });
    expect(t.update(10.4, 200)).toEqual({ improved: false, stop: false }); // not by more than minDelta
    expect(t.update(NaN, 300)).toEqual({ improved: false, stop: true });
    expect([t.best, t.bestStep]).toEqual([10, 100]);
    const never = new MetricTracker('loss', 'lower');
    for (let i = 0; i < 20; i++) expect(never.update(5, i).stop).toBe(false); // patience 0: never stops
  });
});
