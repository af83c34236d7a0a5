import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrainingLog } from '../../src/train/trainingLog.js';

const rec = (step: number, loss: number) => ({
  type: 'train' as const,
  step,
  epoch: 0,
  loss,
  learningRate: 1,
  gradNorm: 1,
  tokensPerSecond: 1,
  time: 't',
});

describe('TrainingLog', () => {
  it('appends JSON lines; reopened for a resume at step k it keeps records up to k and drops a line cut short by a kill', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'seq2seq-log-')), 'train.jsonl');
    const log = await TrainingLog.open(file);
    for (const s of [10, 20, 30]) log.append(rec(s, 1 / s));
    log.append({ type: 'valid', step: 30, metrics: { loss: 2, bleu: 5 }, seconds: 1, time: 't' });
    appendFileSync(file, '{"type":"train","step":40,"lo'); // a kill mid-line
    const resumed = await TrainingLog.open(file, 20);
    expect(resumed.records.map((r) => r.step)).toEqual([10, 20]);
    expect(
      readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).step),
    ).toEqual([10, 20]);
    const fresh = await TrainingLog.open(file);
    expect(fresh.records).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe('');
  });
});
