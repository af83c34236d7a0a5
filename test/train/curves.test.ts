import { describe, it, expect } from 'vitest';
import { lossCurves, metricCurves, describeLoss, metricLabel, type CurveOptions } from '../../src/train/curves.js';
import type { LogRecord } from '../../src/train/trainingLog.js';

const train = (step: number, loss: number, learningRate = 0.002): LogRecord => ({
  type: 'train',
  step,
  epoch: 0,
  loss,
  learningRate,
  gradNorm: 1,
  tokensPerSecond: 1,
  time: 't',
});
const valid = (step: number, metrics: Record<string, number>, trainingMinutes?: number): LogRecord => ({
  type: 'valid',
  step,
  metrics,
  seconds: 1,
  time: 't',
  ...(trainingMinutes !== undefined ? { trainingMinutes } : {}),
});

const options = (o: Partial<CurveOptions> = {}): CurveOptions => ({
  title: 'run',
  loss: describeLoss(undefined, { softmax: 'sampled', numSampled: 512 }),
  metric: 'bleu',
  direction: 'higher',
  ...o,
});

/** The texts of the SVG elements of a class (tick labels, axis labels, legends). */
const texts = (svg: string, cls: string): string[] =>
  [...svg.matchAll(new RegExp(`<text class="${cls}"[^>]*>([^<]*)</text>`, 'g'))].map((m) => m[1]!);
const panels = (svg: string): string[] =>
  [...svg.matchAll(/<g class="panel" data-quantity="([^"]*)"/g)].map((m) => m[1]!);

const records: LogRecord[] = [
  train(100, 5, 0.002),
  train(200, 4, 0.002),
  valid(200, { loss: 4.5, perplexity: 90, tokenAccuracy: 20, exactMatch: 1, bleu: 7 }, 2),
  train(300, 3.5, 0.001),
  train(400, 3, 0.0005),
  valid(400, { loss: 4.2, perplexity: 66, tokenAccuracy: 30, exactMatch: 2, bleu: 12 }, 4),
  train(500, 2.9, 0.0002),
  valid(500, { loss: 4.3, perplexity: 73, tokenAccuracy: 31, exactMatch: 2, bleu: 11 }, 5),
];

describe('lossCurves', () => {
  it('names the training loss for its softmax and the validation loss for the full softmax, in one loss panel with its unit', () => {
    const svg = lossCurves(records, options());
    expect(panels(svg)).toEqual(['loss (nats/token)', 'learning rate']);
    expect(texts(svg, 'legend')).toEqual(
      expect.arrayContaining([
        'training loss (sampled softmax, 512 candidates)',
        'validation loss (full softmax)',
        'learning rate',
      ]),
    );
    expect(texts(svg, 'y-label')).toEqual(['loss (nats/token)', 'learning rate']);
  });

  it('marks the best evaluation of the metric on every panel (BLEU highest at step 400, loss lowest at 400 too)', () => {
    const svg = lossCurves(records, options());
    const marks = [...svg.matchAll(/<line class="mark" data-label="([^"]*)" x1="([\d.]+)"/g)];
    expect(marks).toHaveLength(2);
    expect(marks[0]![1]).toBe('best BLEU 12 (step 400: best/)');
    expect(marks[0]![2]).toBe(marks[1]![2]);
    const byLoss = lossCurves(
      [...records, valid(600, { loss: 4.0, bleu: 1 }, 6)],
      options({ metric: 'loss', direction: 'lower' }),
    );
    expect(byLoss).toContain('best loss 4 (step 600: best/)');
  });

  it('draws step along the bottom and training minutes, interpolated between evaluations, along the top', () => {
    const log = [
      train(100, 3),
      train(200, 2),
      train(300, 2),
      valid(250, { loss: 2 }, 3),
      valid(500, { loss: 1 }, 8),
      train(500, 1),
    ];
    const svg = lossCurves(log, options({ metric: 'loss', direction: 'lower' }));
    expect(texts(svg, 'x-label')).toEqual(['step']);
    expect(texts(svg, 'top-label')).toEqual(['training minutes']);
    // Ticks at steps 100 … 500 (in each panel); minutes 0 at step 0, 3 at 250, 8 at 500: 1.2 at 100, 4 at 300.
    expect(texts(svg, 'x-tick').slice(0, 5).map(Number)).toEqual([100, 200, 300, 400, 500]);
    expect(texts(svg, 'top-tick').map(Number)).toEqual([1.2, 2.4, 4, 6, 8]);
    // A log without minutes has no top axis.
    expect(texts(lossCurves([train(10, 1), valid(10, { loss: 1 })], options()), 'top-label')).toEqual([]);
  });

  it("a forecaster's loss is an MSE in scaled units, not nats per token", () => {
    const svg = lossCurves(
      [train(10, 0.5), valid(10, { loss: 0.4, mse: 3, rmse: 1.7 })],
      options({ loss: describeLoss({ name: 'MSE', unit: 'scaled units²' }), metric: 'loss', direction: 'lower' }),
    );
    expect(panels(svg)[0]).toBe('loss (scaled units²)');
    expect(texts(svg, 'legend')).toEqual(expect.arrayContaining(['training loss (MSE)', 'validation loss (MSE)']));
    expect(svg).not.toContain('nats');
  });
});

describe('metricCurves', () => {
  it('gives each metric its own panel and unit, readable names, against step; perplexity and loss are not repeated', () => {
    const svg = metricCurves(records, options())!;
    expect(panels(svg)).toEqual(['token accuracy (%)', 'exact match (%)', 'BLEU (0–100)']);
    expect(texts(svg, 'legend')).toEqual(
      expect.arrayContaining(['validation token accuracy', 'validation exact match', 'validation BLEU']),
    );
    expect(svg).not.toMatch(/tokenAccuracy|exactMatch|perplexity/);
    expect(texts(svg, 'x-label')).toEqual(['step']);
    // Exact match (1–2 %) is drawn on its own axis, from 0.
    const exact = svg.split('<g class="panel"')[2]!;
    expect(texts(exact, 'y-tick').map(Number)[0]).toBe(0);
    expect(metricCurves([train(1, 1), valid(1, { loss: 1, perplexity: 2.7 })], options())).toBeNull();
  });

  it('labels metrics it does not know by splitting camelCase', () => {
    expect(metricLabel('lastStepMse')).toBe('MSE of the last step ahead (data units²)');
    expect(metricLabel('someNewScore')).toBe('some new score');
  });
});

describe('describeLoss', () => {
  it('says which softmax and smoothing the training loss used', () => {
    expect(describeLoss()).toEqual({
      unit: 'nats/token',
      training: 'training loss (full softmax)',
      validation: 'validation loss (full softmax)',
    });
    expect(describeLoss(undefined, { labelSmoothing: 0.1 }).training).toBe(
      'training loss (full softmax, label smoothing 0.1)',
    );
    expect(describeLoss({ name: 'cross-entropy', unit: 'nats/example' }).unit).toBe('nats/example');
  });
});
