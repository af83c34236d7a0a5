// Parsers for numeric command-line flags, shared by every command: each names the flag in its error.
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { ToolkitError } from '../errors.js';
import { parseWasmThreads } from '../backend/select.js';

/** An integer ≥ min (default 1), and ≤ max where one is given. */
export const int =
  (name: string, min = 1, max = Infinity) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(
        max === Infinity ? `${name} must be an integer ≥ ${min}` : `${name} must be an integer from ${min} to ${max}`,
      );
    return n;
  };

/** A finite number ≥ min (default 0). */
export const num =
  (name: string, min = 0) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`${name} must be a number ≥ ${min}`);
    return n;
  };

/** A finite number > 0 (a learning rate, a decay factor, a temperature…). */
export const positive =
  (name: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
    return n;
  };

/** A share, in [0, 1]. */
export const share =
  (name: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`${name} must be between 0 and 1`);
    return n;
  };

/** A dropout keep probability, in (0, 1]. */
export const keep =
  (name: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!(n > 0 && n <= 1)) throw new InvalidArgumentError(`${name} must be a keep probability in (0, 1]`);
    return n;
  };

/** Repeatable flag: collects every value given. */
export const collect = (v: string, previous: string[]): string[] => [...previous, v];

/** Repeatable integer flag (e.g. --difference 1 12): collects every value, each checked as int(name, min). */
export const collectInts =
  (name: string, min = 1) =>
  (v: string, previous: number[] | undefined): number[] => [...(previous ?? []), int(name, min)(v)];

/** The options of the `translate` program itself (src/cli.ts), which its subcommands read. */
export interface ProgramFlags {
  backend?: string;
  threads?: string;
  blas?: string;
}

/** The program's --backend, if given. */
export const backendFlag = (program: Command): string | undefined => program.opts<ProgramFlags>().backend;

/** The program's --threads, if given: a positive integer, else a BackendError naming the flag. */
export const threadsFlag = (program: Command): number | undefined =>
  parseWasmThreads(program.opts<ProgramFlags>().threads, '--threads');

/**
 * Starts the backend the global flags ask for (cli.ts), `choice` being --backend: a server (`serving`) gives
 * OpenBLAS's second thread larger products only; `how.threads` overrides --threads (a serve worker's share) and
 * `how.say` takes the lines it would print.
 */
export type StartBackend = (
  choice: string | undefined,
  serving?: boolean,
  how?: { threads?: number; say?: (lines: string[]) => void },
) => Promise<void>;

/**
 * Throws a ToolkitError when the file an output flag names is one of the command's inputs, by its path or as the same
 * file by another name (a link): writing there would replace it (`eval --out` the --src file, `forecast --plot` the
 * CSV).
 */
export async function refuseInputAsOutput(
  flag: string,
  out: string,
  inputs: readonly (readonly [flag: string, file: string])[],
): Promise<void> {
  const o = await stat(out).catch(() => null);
  for (const [inputFlag, file] of inputs) {
    const i = await stat(file).catch(() => null);
    const same =
      o !== null && i !== null ? o.dev === i.dev && o.ino === i.ino : path.resolve(out) === path.resolve(file);
    if (same) throw new ToolkitError(`${flag} ${out} is the ${inputFlag} file ${file}: writing there would replace it`);
  }
}
