import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrainingLog } from '../../src/train/trainingLog.js';
import { lossCurves, metricCurves } from '../../src/train/curves.js';

const rec = (step: number, loss: number) => ({ type: 'train' as const, step, epoch: 0, loss, learningRate: 1, gradNorm: 1, tokensPerSecond: 1, time: 't' });

describe('TrainingLog', () => {
  it('appends JSON lines; reopened for a resume at step k it keeps records up to k and drops a line cut short by a kill', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'seq2seq-log-')), 'train.jsonl');
    const log = await TrainingLog.open(file);
    for (const s of [10, 20, 30]) log.append(rec(s, 1 / s));
    log.append({ type: 'valid', step: 30, metrics: { loss: 2, bleu: 5 }, seconds: 1, time: 't' });
    appendFileSync(file, '{"type":"train","step":40,"lo'); // a kill mid-line
    const resumed = await TrainingLog.open(file, 20);
    expect(resumed.records.map((r) => r.step)).toEqual([10, 20]);
    expect(readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l).step)).toEqual([10, 20]);
    const fresh = await TrainingLog.open(file);
    expect(fresh.records).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  it('curves: training and validation loss on one chart, the other metrics on another (none when there are none)', () => {
    const records = [rec(10, 3), rec(20, 2), { type: 'valid' as const, step: 20, metrics: { loss: 2.5, perplexity: 12, bleu: 7 }, seconds: 1, time: 't' }];
    const loss = lossCurves(records, 'run');
    expect(loss).toContain('training loss');
    expect(loss).toContain('validation loss');
    const metrics = metricCurves(records, 'run')!;
    expect(metrics).toContain('>bleu<');
    expect(metrics).not.toContain('perplexity');
    expect(metricCurves([rec(1, 1)], 'run')).toBeNull();
  });

  it('draws validation metrics against training minutes when the log records them', () => {
    const valid = (step: number, minutes: number, bleu: number) => ({ type: 'valid' as const, step, metrics: { loss: 2, bleu }, seconds: 1, trainingMinutes: minutes, time: 't' });
    const svg = metricCurves([valid(500, 5.5, 10), valid(1000, 11, 20)], 'run')!;
    expect(svg).toContain('training minutes');
    expect(svg).not.toMatch(/>step</);
    expect(metricCurves([{ type: 'valid' as const, step: 5, metrics: { bleu: 1 }, seconds: 1, time: 't' }], 'run')).toMatch(/>step</);
  });
});
