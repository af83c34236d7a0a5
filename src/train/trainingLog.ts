// The training log: one JSON object per line (train.jsonl beside the checkpoint), appended as training goes, so it
// can be followed with `tail -f` and read by any tool. On resume the lines after the checkpoint's step are dropped
// (those steps are trained again), so the log of a resumed run reads as one uninterrupted run.
import { promises as fs, appendFileSync } from 'node:fs';
import { writeFileAtomic } from '../model/atomicFiles.js';

export type LogRecord =
  | {
      type: 'train';
      step: number;
      epoch: number;
      /** Mean training loss over the steps since the previous train record. */
      loss: number;
      learningRate: number;
      /** Mean global gradient norm (before clipping) over those steps. */
      gradNorm: number;
      tokensPerSecond: number;
      time: string;
    }
  /** trainingMinutes: time spent in training steps so far, across resumes (evaluations and checkpoints excluded). */
  | {
      type: 'valid';
      step: number;
      metrics: Record<string, number>;
      seconds: number;
      trainingMinutes?: number;
      time: string;
    }
  | { type: 'event'; step: number; event: string; message: string; time: string };

export class TrainingLog {
  private constructor(
    readonly file: string,
    readonly records: LogRecord[],
  ) {}

  /** Opens `file` for a new run (emptied) or, with `resumeStep`, keeps the records up to that step. */
  static async open(file: string, resumeStep?: number): Promise<TrainingLog> {
    let kept: LogRecord[] = [];
    if (resumeStep !== undefined) {
      const text = await fs.readFile(file, 'utf8').catch(() => '');
      kept = text
        .split('\n')
        .filter((l) => l.trim().length > 0)
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as LogRecord];
          } catch {
            return []; // a line cut short by a kill
          }
        })
        .filter((r) => r.step <= resumeStep);
    }
    await writeFileAtomic(file, kept.map((r) => JSON.stringify(r) + '\n').join(''));
    return new TrainingLog(file, kept);
  }

  /** Appends a record (synchronously, so that a record is on disk before the next step starts). */
  append(record: LogRecord): void {
    this.records.push(record);
    appendFileSync(this.file, JSON.stringify(record) + '\n');
  }
}
