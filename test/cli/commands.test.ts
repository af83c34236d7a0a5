import { describe, it, expect } from 'vitest';
import { Command, Option } from 'commander';
import { COMMANDS, commandsFor, runsTraining, type CommandContext } from '../../src/cli/commands.js';

const context: CommandContext = {
  backend: () => Promise.reject(new Error('not started in these tests')),
  startBackend: () => Promise.reject(new Error('not started in these tests')),
};

/** A probe with the program's global options, as cli.ts builds it. */
const globals = (): Command =>
  new Command()
    .addOption(new Option('--backend <name>').choices(['auto', 'wasm', 'cpu']))
    .option('--threads <n>')
    .addOption(new Option('--blas <name>').choices(['auto', 'openblas', 'none']));

const names = (entries: readonly { name: string }[]): string[] => entries.map((e) => e.name);

describe('the CLI command table', () => {
  it('each entry registers exactly its own top-level command, and together they register every command once', async () => {
    const all = new Command();
    for (const entry of COMMANDS) {
      const one = new Command();
      await entry.register(one, context);
      expect(one.commands.map((c) => c.name())).toEqual([entry.name]);
      await entry.register(all, context);
    }
    expect(all.commands.map((c) => c.name())).toEqual(names(COMMANDS));
    expect(new Set(names(COMMANDS)).size).toBe(COMMANDS.length);
  });

  it('marks the commands that train (and so load gradients), and only those', () => {
    const training = COMMANDS.filter((c) => c.trains).map((c) => c.name);
    expect(training.sort()).toEqual(['classify', 'demo', 'forecast', 'lm', 'train']);
  });

  it('tells whether what runs may train, down to the subcommand (lm generate does not; lm train does)', () => {
    const trains = (args: string[]) => runsTraining(commandsFor(args, globals()), args, globals());
    for (const args of [
      ['lm', 'train', '--corpus', 'x'],
      ['--threads', '1', 'classify', 'train', 'x.tsv'],
      ['classify', 'eval', '--model', 'm', 'x.tsv'],
      ['forecast', 'eval', '--model', 'm'],
      ['train', '--corpus', 'x'],
      ['demo', 'number-words'],
      // No subcommand named (help), or every command registered: as if it trained.
      ['lm', '--help'],
      ['--help'],
    ])
      expect([args, trains(args)]).toEqual([args, true]);
    for (const args of [
      ['lm', 'generate', '--model', 'm', 'once upon'],
      ['--blas', 'none', 'lm', 'score', '--model', 'm', 'x.txt'],
      ['classify', 'predict', '--model', 'm'],
      ['forecast', 'predict', '--model', 'm'],
      ['translate', '--model', 'm', 'one two'],
      ['serve', '--model', 'm'],
    ])
      expect([args, trains(args)]).toEqual([args, false]);
  });

  it('marks the servers (they go on when their output has no reader), and only those', () => {
    expect(COMMANDS.filter((c) => c.serves === true).map((c) => c.name)).toEqual(['serve', 'web']);
  });

  it('picks the command the first operand names, past the global options and their values', () => {
    expect(names(commandsFor(['translate', 'hello', 'world'], globals()))).toEqual(['translate']);
    expect(names(commandsFor(['--backend', 'wasm', 'translate', '--model', 'm'], globals()))).toEqual(['translate']);
    expect(names(commandsFor(['--threads=2', '--blas', 'none', 'lm', 'train'], globals()))).toEqual(['lm']);
    expect(names(commandsFor(['--threads', '1', 'serve', '--workers', '2'], globals()))).toEqual(['serve']);
    // A command's own --help stays that command's.
    expect(names(commandsFor(['eval', '--help'], globals()))).toEqual(['eval']);
  });

  it('leaves a bad global option to the program: all commands, and the probe neither prints nor exits', () => {
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = (chunk: string | Uint8Array): boolean => (errors.push(String(chunk)), true);
    try {
      for (const args of [['--backend', 'gpu', 'translate'], ['--blas', 'foo', 'eval'], ['--threads']])
        expect(names(commandsFor(args, globals()))).toEqual(names(COMMANDS));
    } finally {
      process.stderr.write = write;
    }
    expect(errors).toEqual([]);
  });

  it('loads every command for the help, the help command, an unknown name and no name', () => {
    for (const args of [[], ['--help'], ['-h'], ['--help', 'translate'], ['help', 'translate'], ['tranlsate'], ['-V']])
      expect(names(commandsFor(args, globals()))).toEqual(names(COMMANDS));
  });
});
