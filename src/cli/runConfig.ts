// --config, --set and --resume, the same for every `… train` command (translation, lm, classify, forecast): the run's
// config is its task's defaults ← the --config file ← the flags given ← each --set, checked key by key (the
// machinery is src/train/config.ts). --resume reads the config saved in --out's checkpoint and continues with it:
// only how the run is optimised from here may change (steps, learning rate, clipping, schedule; with
// --reset-optimizer also the optimiser and momentum).
import type { Command } from 'commander';
import { collect } from './flags.js';
import { ConfigError, changedKeys, isPlainObject, type PartialConfig, type SectionedConfig } from '../train/config.js';
import { readCheckpoint, type Checkpoint } from '../train/checkpoints.js';
import { RunLock } from '../train/lock.js';

export interface RunConfigFlags {
  config?: string;
  set: string[];
  out: string;
  resume?: boolean;
  /** On --resume: start the optimiser's moments afresh (needed to change the optimiser or the momentum). */
  resetOptimizer?: boolean;
  /** On --resume with a new --steps: stretch the learning-rate schedule over it (default: keep its horizon). */
  reschedule?: boolean;
}

/** Config keys --resume accepts a new value for (training.schedule.* too)… */
export const RESUMABLE_KEYS = ['training.steps', 'training.learningRate', 'training.clipNorm'];
/** …and, with --reset-optimizer, these. */
export const OPTIMIZER_KEYS = ['training.optimizer', 'training.momentum'];

/** Adds --config, --out, --resume, --reset-optimizer, --reschedule and --set to a train command. */
export function addRunConfigFlags(c: Command, sections: readonly string[], out: string): Command {
  return c
    .option('--config <file>', `JSON config with sections ${sections.join(', ')} (flags override it)`)
    .option('--out <dir>', 'checkpoint directory: model.json + weights, best/, train.jsonl, curves.svg', out)
    .option(
      '--resume',
      'continue the run saved in --out (--steps, --learning-rate, --clip-norm, --schedule, ' +
        '--lr-decay may change; each change is logged)',
    )
    .option(
      '--reset-optimizer',
      'with --resume: start the optimiser state afresh (as OpenNMT -reset_optim); allows ' +
        'a new --optimizer or --momentum',
    )
    .option(
      '--reschedule',
      'with --resume and a new --steps: stretch the learning-rate schedule over the new ' +
        'length (default: keep its horizon)',
    )
    .option(
      '--set <section.key=value>',
      'override any config value, e.g. model.hiddenSize=256 (repeatable; JSON ' + 'values)',
      collect,
      [],
    );
}

export interface RunConfigOptions<C extends object> {
  system: SectionedConfig<C>;
  /** The flags given, as a checked partial config. */
  flagLayer: PartialConfig<C>;
  /** Defaults ← layers, with the task's own requirements (e.g. a training corpus). */
  resolve: (layers: readonly PartialConfig<C>[]) => C;
  /** The model kind the checkpoint must hold. */
  kind: string;
  /**
   * The config saved in a checkpoint's training.config, as a partial config, or null when it holds none. Default:
   * its `config` field (what every train command saves). The heads' older checkpoints saved `{ flags }` instead.
   */
  savedConfig?: (saved: unknown) => PartialConfig<C> | null;
}

export interface ResolvedRun<C> {
  config: C;
  /** The checkpoint to continue (--resume). */
  checkpoint?: Checkpoint;
}

const savedConfigField = <C>(saved: unknown): PartialConfig<C> | null =>
  isPlainObject(saved) && isPlainObject(saved['config']) ? (saved['config'] as PartialConfig<C>) : null;

/** The config layers of the command line (file, flags, --set) in order. */
export async function commandLineLayers<C extends object>(
  flags: RunConfigFlags,
  system: SectionedConfig<C>,
  flagLayer: PartialConfig<C>,
): Promise<PartialConfig<C>[]> {
  const layers: PartialConfig<C>[] = [];
  if (flags.config !== undefined) layers.push(await system.readFile(flags.config));
  layers.push(flagLayer);
  for (const s of flags.set) layers.push(system.parseSet(s));
  return layers;
}

/**
 * The run's effective config, and on --resume the checkpoint it continues: the saved config ← the command line's
 * layers, which may change only the keys --resume allows. Checks --out's lock first (before reading any data).
 */
export async function resolveRun<C extends object>(
  flags: RunConfigFlags,
  options: RunConfigOptions<C>,
): Promise<ResolvedRun<C>> {
  const layers = await commandLineLayers(flags, options.system, options.flagLayer);
  if (!flags.resume && (flags.resetOptimizer || flags.reschedule))
    throw new ConfigError('--reset-optimizer and ' + '--reschedule only apply with --resume');
  // Before reading anything (data can take minutes): another training may be writing into --out.
  await RunLock.check(flags.out);
  if (!flags.resume) return { config: options.resolve(layers) };
  const checkpoint = await readCheckpoint(flags.out, options.kind);
  const raw = (options.savedConfig ?? savedConfigField<C>)(checkpoint.training.config);
  if (raw === null)
    throw new ConfigError(`${flags.out}/model.json: the checkpoint holds no run configuration to resume with`);
  // The saved config is the run's own, as resolved then: taken as it is (not re-checked against today's schema).
  const saved = raw;
  // A resumed run is the same run on the same data and model; what may change is how it is optimised from here
  // (a diverged run resumed with a lower rate or harder clipping) and its length.
  const mayChange = (k: string): boolean =>
    RESUMABLE_KEYS.includes(k) ||
    k.startsWith('training.schedule.') ||
    (flags.resetOptimizer === true && OPTIMIZER_KEYS.includes(k));
  const changed = changedKeys(saved, layers, mayChange);
  if (changed.length > 0) {
    throw new ConfigError(
      `--resume continues the run with its saved configuration; only --steps, --learning-rate, --clip-norm, --schedule, --lr-decay ` +
        `(and with --reset-optimizer --optimizer, --momentum) may be given (got ${changed.join(', ')})`,
    );
  }
  return { config: options.resolve([saved, ...layers]), checkpoint };
}
