// Training checkpoints. A checkpoint is a model directory (loadable as it is: `translate translate --model OUT`)
// whose model.json also holds a "training" section with everything `--resume` needs:
//
//   OUT/model.json             model config, vocabularies…, weights manifest, and the training section: step, RNG
//                              and sampler state, schedule and best-metric state, the effective config, and the
//                              optimiser file's name, checksum and slot manifest
//   OUT/weights-<hash>.bin     the weights
//   OUT/optimizer-<hash>.bin   the optimiser's slots (Adam's moments, SGD's momentum)
//   OUT/best/                  the best model by the validation metric (a model directory, without optimiser state)
//
// The data files are content-named and written first; model.json, the only file that names them, is replaced last
// by an atomic rename; then files it no longer names are removed. A kill at any moment leaves the previous
// checkpoint or the new one, complete and verifiable (each data file's sha256 is in model.json).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ToolkitError } from '../errors.js';
import type { Params } from '../model/params.js';
import {
  saveModelFiles,
  loadModelFiles,
  readContentFile,
  float32View,
  ModelFileError,
  MODEL_FILE,
  type SavedModelJson,
  type ModelSideFile,
} from '../model/modelFiles.js';
import { writeContentFile } from '../model/atomicFiles.js';
import type { RngState } from '../random.js';
import type { OptimizerStateJson } from './trainer.js';
import type { ScheduleState } from './schedule.js';
import type { MetricTrackerState } from './earlyStopping.js';

export const TRAINING_FORMAT = 'seq2seq-ts/training@1';
export const BEST_DIR = 'best';

/** What model.json holds besides the weights: supplied by the task (e.g. Translator.savedForm). */
export interface SavedModelForm {
  kind: string;
  config: unknown;
  extra: unknown;
  /** Files model.json names besides the weights (a tokenizer's model): written into the checkpoint too. */
  files?: readonly ModelSideFile[];
}

/** Running sums the loop keeps between log lines and evaluations (saved so a resumed run logs the same numbers). */
export interface WindowSums {
  lossSum: number;
  gradNormSum: number;
  steps: number;
  tokens: number;
  seconds: number;
}

export interface TrainingStateJson {
  format: typeof TRAINING_FORMAT;
  /** Steps completed. */
  step: number;
  /** The resolved training options. */
  options: unknown;
  /** The caller's effective run configuration (the CLI's data, model, training and loss sections). */
  config: unknown;
  rng: RngState;
  sampler: unknown;
  schedule: ScheduleState;
  /** The steps the schedule is stretched over (cosine's last step); absent in older checkpoints: options.steps. */
  scheduleSteps?: number;
  tracker: MetricTrackerState;
  learningRate: number;
  /** Sums since the last training-log line and since the last evaluation. */
  logWindow: WindowSums;
  evalWindow: WindowSums;
  /** Batches skipped for a non-finite loss (nonFinite 'skip'). */
  skipped: number;
  /** Seconds spent in training steps so far, across sessions (absent in older checkpoints). */
  trainingSeconds?: number;
  lastMetrics: Record<string, number> | null;
  optimizer: { file: string; sha256: string; state: OptimizerStateJson };
  savedAt: string;
}

/** The training section of a best-model directory: which step and metrics it is from. */
export interface BestSummaryJson {
  format: 'seq2seq-ts/best@1';
  step: number;
  metric: string;
  value: number;
  metrics: Record<string, number>;
}

export class CheckpointError extends ToolkitError {
  override name = 'CheckpointError';
}

export interface Checkpoint {
  dir: string;
  json: SavedModelJson;
  weights: Float32Array;
  training: TrainingStateJson;
  optimizer: Float32Array;
}

/** Writes a resumable checkpoint into `dir` (see the top of this file for the order of writes). */
export async function saveCheckpoint(
  dir: string,
  form: SavedModelForm,
  params: Params,
  training: Omit<TrainingStateJson, 'optimizer' | 'format' | 'savedAt'>,
  optimizer: { json: OptimizerStateJson; data: Float32Array },
): Promise<void> {
  const { manifest, data } = params.serialize();
  await fs.mkdir(dir, { recursive: true });
  const opt = await writeContentFile(
    dir,
    'optimizer',
    new Uint8Array(optimizer.data.buffer, optimizer.data.byteOffset, optimizer.data.byteLength),
  );
  const state: TrainingStateJson = {
    format: TRAINING_FORMAT,
    ...training,
    optimizer: { file: opt.file, sha256: opt.sha256, state: optimizer.json },
    savedAt: new Date().toISOString(),
  };
  await saveModelFiles(dir, form.kind, form.config, manifest, data, form.extra, {
    training: state,
    ...(form.files ? { files: form.files } : {}),
  });
}

/** Writes the best model so far (a plain model directory, with a summary of where it came from). */
export async function saveBest(
  dir: string,
  form: SavedModelForm,
  params: Params,
  summary: Omit<BestSummaryJson, 'format'>,
): Promise<void> {
  const { manifest, data } = params.serialize();
  await saveModelFiles(dir, form.kind, form.config, manifest, data, form.extra, {
    training: { format: 'seq2seq-ts/best@1', ...summary },
    ...(form.files ? { files: form.files } : {}),
  });
}

/** Reads and verifies (checksums of weights and optimiser state) a checkpoint written by saveCheckpoint. */
export async function readCheckpoint(dir: string, expectedKind?: string): Promise<Checkpoint> {
  const { json, data } = await loadModelFiles(dir, expectedKind);
  const where = path.join(dir, MODEL_FILE);
  const t = json.training as Partial<TrainingStateJson> | undefined;
  if (t === undefined || t === null || typeof t !== 'object') {
    throw new CheckpointError(
      `${where}: a model without training state, so it cannot be resumed (was it written by training? the best/ directory cannot be resumed either)`,
    );
  }
  if (t.format !== TRAINING_FORMAT)
    throw new CheckpointError(
      `${where}: training section has format ${JSON.stringify(t.format)}, expected "${TRAINING_FORMAT}"`,
    );
  const o = t.optimizer;
  if (o === undefined || typeof o.file !== 'string' || typeof o.sha256 !== 'string')
    throw new CheckpointError(`${where}: training section names no optimiser file`);
  const bytes = await readContentFile(dir, o.file, o.sha256, 'optimiser state');
  const training = t as TrainingStateJson;
  // Older checkpoints could hold a NaN metric, which JSON wrote as null: leave those out rather than pass a null on as a number.
  if (training.lastMetrics !== null && typeof training.lastMetrics === 'object') {
    training.lastMetrics = Object.fromEntries(
      Object.entries(training.lastMetrics).filter(([, v]) => typeof v === 'number' && Number.isFinite(v)),
    );
  } else {
    training.lastMetrics = null;
  }
  return { dir, json, weights: data, training, optimizer: float32View(bytes, path.join(dir, path.basename(o.file))) };
}

/** true when `dir` holds a model.json (a checkpoint or any model). */
export async function hasModel(dir: string): Promise<boolean> {
  return fs.stat(path.join(dir, MODEL_FILE)).then(
    () => true,
    () => false,
  );
}

export { ModelFileError };
