// The CLI's commands, each imported only when it is the one that runs. Importing them all (the trainer, the heads,
// the server, the page) cost `translate translate` about 0.2 s of its start-up on the 2-core development machine;
// `translate --help`, the implicit `help` command and a name that is no command load every one (the help lists
// them, and an unknown name gets commander's "did you mean").
import type { Command } from 'commander';
import type { StartBackend } from './flags.js';

/** What a command module's register function may take: the backend as the flags ask, or with a choice of its own. */
export interface CommandContext {
  backend: () => Promise<void>;
  startBackend: StartBackend;
}

export interface CommandEntry {
  /** The top-level command (or group) name. */
  name: string;
  /**
   * Whether it may train, and so needs tfjs's gradients (backend/select.ts, BackendOptions.gradients): true, false,
   * or the names of its subcommands that may (then the others do not).
   */
  trains: boolean | readonly string[];
  /** A server: it runs until stopped, and, as a training does, goes on when its output has no reader (cli.ts). */
  serves?: true;
  register(program: Command, context: CommandContext): Promise<void>;
}

/** Every command, in the order the help lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'demo',
    trains: true,
    register: async (p, c) => (await import('./demo.js')).registerDemoCommands(p, c.backend),
  },
  { name: 'data', trains: false, register: async (p) => (await import('./dataStats.js')).registerDataCommands(p) },
  {
    name: 'eval',
    trains: false,
    register: async (p, c) => (await import('./evaluate.js')).registerEvalCommand(p, c.backend),
  },
  { name: 'corpus', trains: false, register: async (p) => (await import('./corpus.js')).registerCorpusCommands(p) },
  {
    name: 'lm',
    trains: ['train'],
    register: async (p, c) => (await import('./lm.js')).registerLmCommands(p, c.backend),
  },
  {
    name: 'classify',
    // eval's --baselines trains a logistic regression.
    trains: ['train', 'eval'],
    register: async (p, c) => (await import('./classify.js')).registerClassifyCommands(p, c.backend),
  },
  {
    name: 'forecast',
    // eval fits its linear baseline.
    trains: ['train', 'eval'],
    register: async (p, c) => (await import('./forecast.js')).registerForecastCommands(p, c.backend),
  },
  {
    name: 'translate',
    trains: false,
    register: async (p, c) => (await import('./translate.js')).registerTranslateCommand(p, c.startBackend),
  },
  {
    name: 'subwords',
    trains: false,
    register: async (p) => (await import('./subwords.js')).registerSubwordCommands(p),
  },
  {
    name: 'average',
    trains: false,
    register: async (p, c) => (await import('./average.js')).registerAverageCommand(p, c.startBackend),
  },
  {
    name: 'train',
    trains: true,
    register: async (p, c) => (await import('./train.js')).registerTrainCommand(p, c.startBackend),
  },
  {
    name: 'serve',
    trains: false,
    serves: true,
    register: async (p, c) => (await import('./serve.js')).registerServeCommand(p, c.startBackend),
  },
  {
    name: 'web',
    trains: false,
    serves: true,
    register: async (p, c) => (await import('./web.js')).registerWebCommand(p, c.startBackend),
  },
];

/**
 * Whether the command these arguments run may train (CommandEntry.trains), from the commands that commandsFor
 * gave for them: a command with training subcommands trains unless another of its subcommands is named.
 */
export function runsTraining(entries: readonly CommandEntry[], args: readonly string[], globals: Command): boolean {
  const subcommand = operandsOf(args, globals)?.[1];
  return entries.some((e) =>
    typeof e.trains === 'boolean' ? e.trains : subcommand === undefined || e.trains.includes(subcommand),
  );
}

/**
 * The commands to register for these arguments (without node and the script): the one named by the first operand
 * that `globals` (a Command with the program's global options only) leaves, else all of them.
 */
export function commandsFor(args: readonly string[], globals: Command): readonly CommandEntry[] {
  const operands = operandsOf(args, globals);
  const entry = COMMANDS.find((c) => c.name === operands?.[0]);
  return entry === undefined ? COMMANDS : [entry];
}

/** The operands `globals` leaves of the arguments, up to the first option it does not know; null for a bad global option. */
function operandsOf(args: readonly string[], globals: Command): string[] | null {
  // The probe says nothing and never exits: a bad global option (--backend gpu) is the program's to report, in its
  // own words, once every command is registered.
  const silent = (): void => undefined;
  globals.exitOverride().configureOutput({ writeOut: silent, writeErr: silent, outputError: silent });
  try {
    // parseOptions stops at the first unknown option (--help among them) and leaves it and the rest as unknown.
    return globals.parseOptions([...args]).operands;
  } catch {
    return null;
  }
}
