// The training curves as SVG (curves.svg beside the checkpoint): training and validation loss against step, and
// the other validation metrics (accuracy, exact match, BLEU…) on a second chart when there are any.
import { lineChart, type Series } from '../plot/lineChart.js';
import type { LogRecord } from './trainingLog.js';

/** Validation metrics drawn on the loss chart; the rest go on the metrics chart. */
const LOSS_METRICS = new Set(['loss']);
const NOT_DRAWN = new Set(['perplexity']);

export function lossCurves(records: readonly LogRecord[], title: string): string {
  const train = records.flatMap((r) => (r.type === 'train' ? [[r.step, r.loss] as const] : []));
  const valid = records.flatMap((r) => (r.type === 'valid' && r.metrics['loss'] !== undefined ? [[r.step, r.metrics['loss']] as const] : []));
  const series: Series[] = [{ name: 'training loss', points: train, markers: false }];
  if (valid.length > 0) series.push({ name: 'validation loss', points: valid, markers: true });
  return lineChart({ title, xLabel: 'step', yLabel: 'loss (nats per token)', series });
}

/**
 * The other validation metrics against training minutes (time in training steps, evaluations excluded, across
 * resumes; against step for logs written before minutes were recorded), or null when validation reports only losses.
 */
export function metricCurves(records: readonly LogRecord[], title: string): string | null {
  const names = new Set<string>();
  for (const r of records) if (r.type === 'valid') for (const k of Object.keys(r.metrics)) if (!LOSS_METRICS.has(k) && !NOT_DRAWN.has(k)) names.add(k);
  if (names.size === 0) return null;
  const valid = records.flatMap((r) => (r.type === 'valid' ? [r] : []));
  const byMinutes = valid.every((r) => r.trainingMinutes !== undefined);
  const series: Series[] = [...names].map((name) => ({
    name,
    points: valid.flatMap((r) => (r.metrics[name] !== undefined ? [[byMinutes ? r.trainingMinutes! : r.step, r.metrics[name]!] as const] : [])),
    markers: true,
  }));
  return lineChart({ title, xLabel: byMinutes ? 'training minutes' : 'step', yLabel: 'validation metric', series });
}
