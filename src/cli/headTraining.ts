// What `translate lm|classify|forecast train` share: the training flags (each optional, so that a --config file's
// values stand; the help shows the head's default), their mapping onto the training section, the stacked-layer and
// dropout flags of the classifier and forecaster, and the run of the loop with progress and the saved config.
import { Option, type Command } from 'commander';
import { int, keep, positive, num } from './flags.js';
import { MAX_LAYERS } from '../recurrent/stack.js';
import { trainWithProgress } from './trainingRun.js';
import type { RunConfigFlags } from './runConfig.js';
import { pickDefined } from '../train/config.js';
import type { TrainingOptions } from '../train/options.js';
import type { Checkpoint } from '../train/checkpoints.js';
import type { TrainingTask } from '../train/task.js';
import type { SequenceLossOptions } from '../loss/sequenceLoss.js';
import { SCHEDULE_KINDS, type ScheduleOptions } from '../train/schedule.js';
import { CELL_KINDS, type CellKind } from '../recurrent/cell.js';
import type { DropoutOptions } from '../layers/dropout.js';

/** The training flags of every head's train command. */
export interface HeadTrainFlags extends RunConfigFlags {
  steps?: number;
  batchSize?: number;
  hidden?: number;
  cell?: CellKind;
  seed?: number;
  optimizer?: 'adam' | 'sgd';
  learningRate?: number;
  momentum?: number;
  clipNorm?: number;
  schedule?: ScheduleOptions['kind'];
  lrDecay?: number;
  evalEvery?: number;
  checkpointEvery?: number;
  metric?: string;
  patience?: number;
  quiet?: boolean;
}

/** The flags every training command shares for its training section (trainingLayer). */
export type TrainingFlags = Pick<
  HeadTrainFlags,
  | 'steps'
  | 'optimizer'
  | 'learningRate'
  | 'momentum'
  | 'clipNorm'
  | 'schedule'
  | 'lrDecay'
  | 'evalEvery'
  | 'checkpointEvery'
  | 'metric'
  | 'seed'
  | 'patience'
>;

/** The defaults a head's help shows. */
export interface HeadDefaults {
  training: TrainingOptions;
  batchSize: number;
  hidden: number;
}

export function addHeadTrainingFlags(c: Command, d: HeadDefaults): Command {
  const t = d.training;
  return c
    .option('--steps <n>', `training steps (batches) (default: ${t.steps})`, int('--steps'))
    .option('--batch-size <n>', `examples per batch (default: ${d.batchSize})`, int('--batch-size'))
    .option('--hidden <n>', `recurrent units (default: ${d.hidden})`, int('--hidden'))
    .addOption(new Option('--cell <kind>', 'recurrent cell (default: gru)').choices([...CELL_KINDS]))
    .option('--seed <n>', 'seed of weights, data order, split and dropout (default: 1)', int('--seed', 0))
    .addOption(new Option('--optimizer <name>', `optimiser (default: ${t.optimizer})`).choices(['adam', 'sgd']))
    .option('--learning-rate <x>', `initial learning rate (default: ${t.learningRate})`, positive('--learning-rate'))
    .option('--momentum <x>', `SGD momentum (default: ${t.momentum})`, num('--momentum'))
    .option(
      '--clip-norm <x>',
      `clip gradients to this global norm; 0 = off (default: ${t.clipNorm})`,
      num('--clip-norm'),
    )
    .addOption(
      new Option('--schedule <kind>', 'learning-rate schedule (default: constant)').choices([...SCHEDULE_KINDS]),
    )
    .option('--lr-decay <factor>', 'decay factor of the schedule', positive('--lr-decay'))
    .option('--eval-every <n>', `validate every n steps (default: ${t.evalEvery})`, int('--eval-every'))
    .option(
      '--checkpoint-every <n>',
      'checkpoint every n steps (default: at every ' + 'evaluation)',
      int('--checkpoint-every'),
    )
    .option('--metric <name>', `validation metric for best/, plateau and early stopping (default: ${t.metric})`)
    .option(
      '--patience <n>',
      'early stopping: evaluations without improvement (default: 0 = ' + 'off)',
      int('--patience', 0),
    )
    .option('--quiet', 'no progress lines (evaluations are still reported)');
}

/** The training section of the flags given (--seed also seeds data and model: the head's own mapping adds those). */
export function trainingLayer(f: TrainingFlags): Partial<TrainingOptions> {
  const schedule = pickDefined({ kind: f.schedule, factor: f.lrDecay });
  return {
    ...pickDefined({
      steps: f.steps,
      optimizer: f.optimizer,
      learningRate: f.learningRate,
      momentum: f.momentum,
      clipNorm: f.clipNorm,
      evalEvery: f.evalEvery,
      checkpointEvery: f.checkpointEvery,
      metric: f.metric,
      seed: f.seed,
    }),
    ...(Object.keys(schedule).length > 0 ? { schedule } : {}),
    ...(f.patience !== undefined ? { earlyStopping: { patience: f.patience } } : {}),
  };
}

/** Stacked layers and dropout of a head's recurrent reader (classifier, forecaster). */
export interface StackFlags {
  layers?: number;
  inputKeep?: number;
  outputKeep?: number;
  stateKeep?: number;
}

export function addStackFlags(c: Command): Command {
  return c
    .option('--layers <n>', 'stacked recurrent layers (default: 1)', int('--layers', 1, MAX_LAYERS))
    .option('--input-keep <p>', 'dropout: keep probability of layer inputs (default: 1)', keep('--input-keep'))
    .option('--output-keep <p>', 'dropout: keep probability of layer outputs (default: 1)', keep('--output-keep'))
    .option(
      '--state-keep <p>',
      'dropout: keep probability of the recurrent state (variational; default: ' + '1)',
      keep('--state-keep'),
    );
}

/** The model fields of the stack flags given. */
export function stackLayer(f: StackFlags): { layers?: number; dropout?: Partial<DropoutOptions> } {
  const dropout = pickDefined({ inputKeep: f.inputKeep, outputKeep: f.outputKeep, stateKeep: f.stateKeep });
  return { ...pickDefined({ layers: f.layers }), ...(Object.keys(dropout).length > 0 ? { dropout } : {}) };
}

export const fmt = (x: number | undefined, digits = 4): string => (x === undefined ? '—' : x.toFixed(digits));

export interface HeadRun<C> {
  out: string;
  training: TrainingOptions;
  /** Saved in the checkpoint as training.config: what --resume reads back. */
  saved: { config: C };
  checkpoint?: Checkpoint;
  loss?: Partial<SequenceLossOptions>;
  flags: HeadTrainFlags;
  describe: (metrics: Record<string, number>) => string;
}

/** Runs the loop with a progress bar, evaluation lines and Ctrl-C handling; returns the exit code. */
export function runHeadTraining<B, C>(task: TrainingTask<B>, run: HeadRun<C>): Promise<number> {
  const f = run.flags;
  return trainWithProgress(
    task,
    run.training,
    {
      out: run.out,
      config: run.saved,
      ...(run.checkpoint !== undefined ? { resume: run.checkpoint } : {}),
      ...(run.loss !== undefined ? { loss: run.loss } : {}),
      resetOptimizer: f.resetOptimizer ?? false,
      reschedule: f.reschedule ?? false,
    },
    { quiet: f.quiet ?? false, describe: run.describe },
  );
}
