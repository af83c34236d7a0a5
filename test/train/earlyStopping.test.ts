// MetricTracker: the best value of the validation metric, improvement by more than minDelta in either direction,
// the count of evaluations since the best, stopping when patience runs out, and its state for checkpoints.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { MetricTracker, DEFAULT_EARLY_STOPPING, type MetricDirection } from '../../src/train/earlyStopping.js';
import { fuzzRuns } from '../fuzz/settings.js';

describe('MetricTracker', () => {
  it('defaults to patience 0 (never stop) and minDelta 0; keeps the metric name and direction', () => {
    expect(DEFAULT_EARLY_STOPPING).toEqual({ patience: 0, minDelta: 0 });
    const t = new MetricTracker('bleu', 'higher');
    expect(t.metric).toBe('bleu');
    expect(t.direction).toBe('higher');
    expect(t.options).toEqual({ patience: 0, minDelta: 0 });
    expect(new MetricTracker('loss', 'lower', { patience: 3 }).options).toEqual({ patience: 3, minDelta: 0 });
    expect(t.best).toBeNull();
    expect(t.bestStep).toBeNull();
    for (let i = 0; i < 50; i++) expect(t.update(0, i).stop).toBe(false);
  });

  it('lower is better for a loss: the first value is the best, then only strictly lower ones', () => {
    const t = new MetricTracker('loss', 'lower');
    expect(t.update(3, 10)).toEqual({ improved: true, stop: false });
    expect(t.update(3, 20)).toEqual({ improved: false, stop: false });
    expect(t.update(4, 30).improved).toBe(false);
    expect(t.update(2.5, 40).improved).toBe(true);
    expect([t.best, t.bestStep]).toEqual([2.5, 40]);
    expect(t.getState()).toEqual({ best: 2.5, bestStep: 40, stale: 0 });
  });

  it('higher is better for BLEU', () => {
    const t = new MetricTracker('bleu', 'higher');
    t.update(10, 1);
    expect(t.update(9, 2).improved).toBe(false);
    expect(t.update(11, 3).improved).toBe(true);
    expect([t.best, t.bestStep]).toEqual([11, 3]);
  });

  it('an improvement must beat the best by more than minDelta', () => {
    const lower = new MetricTracker('loss', 'lower', { minDelta: 0.5 });
    lower.update(2, 1);
    expect(lower.update(1.5, 2).improved).toBe(false); // exactly minDelta: not more
    expect(lower.update(1.6, 3).improved).toBe(false);
    expect(lower.update(1.49, 4).improved).toBe(true);
    expect(lower.best).toBe(1.49);
    const higher = new MetricTracker('bleu', 'higher', { minDelta: 1 });
    higher.update(20, 1);
    expect(higher.update(21, 2).improved).toBe(false);
    expect(higher.update(21.01, 3).improved).toBe(true);
  });

  it('NaN and infinities never improve, not even as the first value', () => {
    for (const direction of ['lower', 'higher'] as const) {
      const t = new MetricTracker('m', direction);
      expect(t.update(NaN, 1).improved).toBe(false);
      expect(t.update(Infinity, 2).improved).toBe(false);
      expect(t.update(-Infinity, 3).improved).toBe(false);
      expect(t.best).toBeNull();
      expect(t.getState().stale).toBe(3);
      expect(t.update(5, 4).improved).toBe(true);
      expect(t.update(NaN, 5).improved).toBe(false);
      expect(t.best).toBe(5);
    }
  });

  it('stops once `patience` evaluations in a row have not improved, and keeps saying so', () => {
    const t = new MetricTracker('loss', 'lower', { patience: 2 });
    expect(t.update(1, 1).stop).toBe(false);
    expect(t.update(1.1, 2)).toEqual({ improved: false, stop: false });
    expect(t.update(1.2, 3)).toEqual({ improved: false, stop: true });
    expect(t.update(1.3, 4).stop).toBe(true);
    // An improvement resets the count.
    expect(t.update(0.5, 5)).toEqual({ improved: true, stop: false });
    expect(t.update(0.6, 6).stop).toBe(false);
  });

  it('state round-trips through JSON into a new tracker, which then behaves as the old one; both are copies', () => {
    const a = new MetricTracker('loss', 'lower', { patience: 3 });
    [5, 4, 4.5, 4.2].forEach((v, i) => a.update(v, (i + 1) * 100));
    const saved = JSON.parse(JSON.stringify(a.getState()));
    expect(saved).toEqual({ best: 4, bestStep: 200, stale: 2 });
    const b = new MetricTracker('loss', 'lower', { patience: 3 });
    b.setState(saved);
    saved.stale = 0;
    expect(b.getState().stale).toBe(2);
    const got = b.getState();
    got.best = -1;
    expect(b.best).toBe(4);
    for (const v of [4.1, 3, 3.5]) expect(b.update(v, 0)).toEqual(a.update(v, 0));
  });

  it('agrees with a plain reference on random runs (property)', () => {
    const value = fc.oneof(fc.double({ min: -10, max: 10, noNaN: true }), fc.constantFrom(NaN, Infinity, 1, 1.5));
    fc.assert(
      fc.property(
        fc.constantFrom<MetricDirection>('lower', 'higher'),
        fc.nat({ max: 4 }),
        fc.constantFrom(0, 0.25, 1),
        fc.array(value, { maxLength: 30 }),
        (direction, patience, minDelta, values) => {
          const t = new MetricTracker('m', direction, { patience, minDelta });
          let best: number | null = null;
          let bestStep: number | null = null;
          let stale = 0;
          values.forEach((v, step) => {
            const better = best === null ? true : direction === 'lower' ? v < best - minDelta : v > best + minDelta;
            const improved = Number.isFinite(v) && better;
            if (improved) [best, bestStep, stale] = [v, step, 0];
            else stale++;
            expect(t.update(v, step)).toEqual({ improved, stop: patience > 0 && stale >= patience });
            expect(t.getState()).toEqual({ best, bestStep, stale });
          });
        },
      ),
      fuzzRuns(200),
    );
  });
});
