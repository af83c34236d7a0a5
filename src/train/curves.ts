// The training curves as SVG beside the checkpoint. curves.svg: the losses (training and validation, each named
// for what it measures: the training loss may use the sampled softmax or label smoothing, validation uses the full
// softmax) in one panel, the learning rate in its own, the best checkpoint marked. metrics.svg: one panel per
// validation metric (BLEU, token accuracy, exact match… each on its own axis and unit). Both against step, with
// training minutes along the top.
import { stackedCharts, type Mark, type PanelOptions, type TopAxis } from '../plot/lineChart.js';
import type { LogRecord } from './trainingLog.js';
import type { MetricDirection } from './earlyStopping.js';
import { DEFAULT_SEQUENCE_LOSS, type SequenceLossOptions } from '../loss/sequenceLoss.js';

/** What the loss measures, for the axis and the legend. */
export interface LossDescription {
  /** The unit on the loss axis, e.g. "nats/token", "nats/example", "scaled units²". */
  unit: string;
  /** The training loss's legend, e.g. "training loss (sampled softmax)". */
  training: string;
  /** The validation loss's legend, e.g. "validation loss (full softmax)". */
  validation: string;
}

export interface CurveOptions {
  title: string;
  loss: LossDescription;
  /** The validation metric that picks best/, and which way is better: the best evaluation is marked. */
  metric: string;
  direction: MetricDirection;
}

/** Readable names of the metrics the tasks report, with their units. */
const METRIC_LABELS: Record<string, string> = {
  bleu: 'BLEU (0–100)',
  tokenAccuracy: 'token accuracy (%)',
  exactMatch: 'exact match (%)',
  accuracy: 'accuracy (%)',
  macroF1: 'macro F1 (%)',
  mse: 'MSE (data units²)',
  rmse: 'RMSE (data units)',
  lastStepMse: 'MSE of the last step ahead (data units²)',
};
const PERCENT = new Set(['tokenAccuracy', 'exactMatch', 'accuracy', 'macroF1', 'bleu']);
/** Drawn on the loss panel, or not at all (perplexity is exp(loss): the same curve again). */
const NOT_METRIC_PANELS = new Set(['loss', 'perplexity']);

/** "tokenAccuracy" → "token accuracy", for metrics without a label of their own. */
export function metricLabel(name: string): string {
  return (
    METRIC_LABELS[name] ?? name.replace(/([a-z0-9])([A-Z])/g, (_, a: string, b: string) => `${a} ${b.toLowerCase()}`)
  );
}

type Valid = Extract<LogRecord, { type: 'valid' }>;

/** The evaluation with the best `metric` (the first of equals, as best/ keeps the first). */
function bestEvaluation(valid: readonly Valid[], metric: string, direction: MetricDirection): Valid | null {
  let best: Valid | null = null;
  for (const r of valid) {
    const v = r.metrics[metric];
    if (v === undefined || !Number.isFinite(v)) continue;
    const b = best?.metrics[metric];
    if (b === undefined || (direction === 'lower' ? v < b : v > b)) best = r;
  }
  return best;
}

function bestMark(valid: readonly Valid[], o: CurveOptions): Mark[] {
  const best = bestEvaluation(valid, o.metric, o.direction);
  if (best === null) return [];
  const v = best.metrics[o.metric]!;
  return [
    {
      x: best.step,
      label: `best ${metricLabel(o.metric).replace(/ \(.*\)$/, '')} ${Number(v.toPrecision(4))} (step ${best.step}: best/)`,
    },
  ];
}

/** Training minutes along the top, interpolated between evaluations (which record them); null without any. */
function minutesAxis(valid: readonly Valid[]): TopAxis | undefined {
  const known = valid.filter((r) => r.trainingMinutes !== undefined).map((r) => [r.step, r.trainingMinutes!] as const);
  if (known.length === 0) return undefined;
  const points: (readonly [number, number])[] = [[0, 0], ...known];
  return {
    label: 'training minutes',
    at: (step) => {
      if (step < 0 || step > points.at(-1)![0]) return null;
      const i = points.findIndex((p) => p[0] >= step);
      const [s1, m1] = points[i]!;
      if (i === 0 || s1 === step) return m1;
      const [s0, m0] = points[i - 1]!;
      return m0 + ((m1 - m0) * (step - s0)) / (s1 - s0);
    },
  };
}

export function lossCurves(records: readonly LogRecord[], options: CurveOptions): string {
  const train = records.flatMap((r) => (r.type === 'train' ? [r] : []));
  const valid = records.flatMap((r) => (r.type === 'valid' ? [r] : []));
  const marks = bestMark(valid, options);
  const loss: PanelOptions = {
    yLabel: `loss (${options.loss.unit})`,
    series: [
      { name: options.loss.training, points: train.map((r) => [r.step, r.loss] as const), markers: false },
      ...(valid.some((r) => r.metrics['loss'] !== undefined)
        ? [
            {
              name: options.loss.validation,
              points: valid.flatMap((r) =>
                r.metrics['loss'] !== undefined ? [[r.step, r.metrics['loss']] as const] : [],
              ),
              markers: true,
            },
          ]
        : []),
    ],
    marks,
  };
  const rate: PanelOptions = {
    yLabel: 'learning rate',
    series: [
      {
        name: 'learning rate',
        points: train.map((r) => [r.step, r.learningRate] as const),
        markers: false,
        color: '#009E73',
      },
    ],
    marks,
  };
  const top = minutesAxis(valid);
  return stackedCharts({
    title: options.title,
    xLabel: 'step',
    panels: [loss, rate],
    ...(top !== undefined ? { topAxis: top } : {}),
  });
}

/** One panel per validation metric other than the loss, against step; null when validation reports only losses. */
export function metricCurves(records: readonly LogRecord[], options: CurveOptions): string | null {
  const valid = records.flatMap((r) => (r.type === 'valid' ? [r] : []));
  const names = new Set<string>();
  for (const r of valid) for (const k of Object.keys(r.metrics)) if (!NOT_METRIC_PANELS.has(k)) names.add(k);
  if (names.size === 0) return null;
  const marks = bestMark(valid, options);
  const panels: PanelOptions[] = [...names].map((name) => ({
    yLabel: metricLabel(name),
    series: [
      {
        name: `validation ${metricLabel(name).replace(/ \(.*\)$/, '')}`,
        points: valid.flatMap((r) => (r.metrics[name] !== undefined ? [[r.step, r.metrics[name]] as const] : [])),
        markers: true,
      },
    ],
    ...(PERCENT.has(name) ? { yRange: [0, 1] as const } : {}),
    marks,
  }));
  const top = minutesAxis(valid);
  return stackedCharts({
    title: options.title,
    xLabel: 'step',
    panels,
    panelHeight: 200,
    ...(top !== undefined ? { topAxis: top } : {}),
  });
}

/** What a task's loss is (TrainingTask.lossKind): a name and a unit. */
export interface LossKind {
  name: string;
  unit: string;
}

export const CROSS_ENTROPY_PER_TOKEN: LossKind = { name: 'cross-entropy', unit: 'nats/token' };

/**
 * Names the two losses: a cross-entropy's training loss says which softmax (and smoothing) it used, since the
 * sampled softmax's loss is not comparable with the full one that validation computes.
 */
export function describeLoss(
  kind: LossKind = CROSS_ENTROPY_PER_TOKEN,
  loss: Partial<SequenceLossOptions> = {},
): LossDescription {
  if (kind.name !== 'cross-entropy')
    return { unit: kind.unit, training: `training loss (${kind.name})`, validation: `validation loss (${kind.name})` };
  const how =
    loss.softmax === 'sampled'
      ? `sampled softmax, ${loss.numSampled ?? DEFAULT_SEQUENCE_LOSS.numSampled} candidates`
      : 'full softmax';
  const smoothing =
    (loss.labelSmoothing ?? 0) > 0 && loss.softmax !== 'sampled' ? `, label smoothing ${loss.labelSmoothing}` : '';
  return {
    unit: kind.unit,
    training: `training loss (${how}${smoothing})`,
    validation: 'validation loss (full softmax)',
  };
}
