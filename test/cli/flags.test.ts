import { describe, it, expect } from 'vitest';
import { Command, InvalidArgumentError } from 'commander';
import { mkdtempSync, writeFileSync, linkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  int,
  num,
  positive,
  share,
  keep,
  collect,
  collectInts,
  backendFlag,
  threadsFlag,
  refuseInputAsOutput,
} from '../../src/cli/flags.js';

const rejects = (parse: (v: string) => unknown, v: string, message: string): void => {
  expect(() => parse(v)).toThrow(InvalidArgumentError);
  expect(() => parse(v)).toThrow(message);
};

describe('flag parsers', () => {
  it('int: integers ≥ min (default 1); fractions, text, blanks, NaN and infinities are refused', () => {
    expect(int('--steps')('5')).toBe(5);
    expect(int('--seed', 0)('0')).toBe(0);
    expect(int('--steps')('1e3')).toBe(1000);
    for (const v of ['0', '-1', '1.5', 'abc', 'NaN', 'Infinity', ''])
      rejects(int('--steps'), v, '--steps must be an integer ≥ 1');
    rejects(int('--seed', 0), '-1', '--seed must be an integer ≥ 0');
    // With a maximum: both ends are in, and the message gives the range.
    expect(int('--port', 0, 65535)('65535')).toBe(65535);
    expect(int('--port', 0, 65535)('0')).toBe(0);
    for (const v of ['65536', '-1', '8080.5'])
      rejects(int('--port', 0, 65535), v, '--port must be an integer from 0 to 65535');
  });

  it('num: finite numbers ≥ min (default 0)', () => {
    expect(num('--clip-norm')('0')).toBe(0);
    expect(num('--clip-norm')('2.5')).toBe(2.5);
    for (const v of ['-0.1', 'Infinity', 'NaN', 'x'])
      rejects(num('--clip-norm'), v, '--clip-norm must be a number ≥ 0');
    rejects(num('--x', 1), '0.5', '--x must be a number ≥ 1');
  });

  it('positive: finite numbers > 0, with a message that says so', () => {
    expect(positive('--learning-rate')('1e-9')).toBe(1e-9);
    for (const v of ['0', '-0', '-1', 'Infinity', '1e400', 'abc'])
      rejects(positive('--learning-rate'), v, '--learning-rate must be a positive number');
  });

  it('share: [0, 1] inclusive; keep: (0, 1]', () => {
    expect(share('--short-share')('0')).toBe(0);
    expect(share('--short-share')('1')).toBe(1);
    for (const v of ['-0.01', '1.01', 'NaN', 'x'])
      rejects(share('--short-share'), v, '--short-share must be between 0 and 1');
    expect(keep('--dropout')('1')).toBe(1);
    expect(keep('--dropout')('0.5')).toBe(0.5);
    for (const v of ['0', '1.5', 'NaN'])
      rejects(keep('--dropout'), v, '--dropout must be a keep probability in (0, 1]');
  });

  it('collect and collectInts gather repeated values; collectInts checks each', () => {
    expect(collect('b', collect('a', []))).toEqual(['a', 'b']);
    const lags = collectInts('--difference');
    expect(lags('12', lags('1', undefined))).toEqual([1, 12]);
    rejects((v) => lags(v, [1]), '0', '--difference must be an integer ≥ 1');
  });
});

describe('program flags', () => {
  it("backendFlag: the program's --backend when given, else undefined", () => {
    const program = (): Command => new Command('t').option('--backend <name>').option('--threads <n>');
    const given = program();
    given.parse(['--backend', 'wasm', '--threads', '2'], { from: 'user' });
    expect(backendFlag(given)).toBe('wasm');
    const absent = program();
    absent.parse(['--threads', '2'], { from: 'user' });
    expect(backendFlag(absent)).toBeUndefined();
  });

  it("threadsFlag: the program's --threads as a number when given, else undefined; a bad count names the flag", () => {
    const parsed = (...args: string[]): Command =>
      new Command('t').option('--threads <n>').parse(args, { from: 'user' });
    expect(threadsFlag(parsed('--threads', '3'))).toBe(3);
    expect(threadsFlag(parsed())).toBeUndefined();
    expect(() => threadsFlag(parsed('--threads', '0'))).toThrow('--threads must be a positive integer, got "0"');
  });

  it('refuseInputAsOutput: an output that is an input by path, by another spelling or as a hard link is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flags-out-'));
    const input = join(dir, 'in.txt');
    writeFileSync(input, 'data\n');
    linkSync(input, join(dir, 'hard.txt'));
    const inputs = [['--src', input]] as const;
    for (const out of [input, join(dir, 'sub', '..', 'in.txt'), join(dir, 'hard.txt')])
      await expect(refuseInputAsOutput('--out', out, inputs)).rejects.toThrow(
        `--out ${out} is the --src file ${input}: writing there would replace it`,
      );
    // Another file, existing or not, and an input that does not exist yet, are fine.
    writeFileSync(join(dir, 'other.txt'), '');
    await refuseInputAsOutput('--out', join(dir, 'other.txt'), inputs);
    await refuseInputAsOutput('--out', join(dir, 'new.txt'), inputs);
    await refuseInputAsOutput('--out', join(dir, 'new.txt'), [['--src', join(dir, 'missing.txt')]]);
  });
});
