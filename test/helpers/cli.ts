// Running the `translate` CLI from source (tsx) in a child process, on wasm, as the CLI tests do.
// Child processes run asynchronously: a test worker that blocks in spawnSync cannot answer vitest's runner, whose
// calls time out after 60 s of a blocked event loop ("Timeout calling onTaskUpdate") although every test passes.
import { join, resolve } from 'node:path';
import { runProcess, type ProcessResult } from './process.js';

export const repoRoot = resolve(import.meta.dirname, '../..');
/** The environment the CLI runs in: the tests' backend. */
export const cliEnv = { ...process.env, TRANSLATE_BACKEND: 'wasm' };
/** Node's arguments for `translate ...args`. */
export const cliArgs = (args: readonly string[]): string[] => [
  '--import',
  'tsx',
  join(repoRoot, 'src/cli.ts'),
  ...args,
];

/** Runs `translate ...args` to its end: its exit code (null when killed), stdout and stderr. */
export function runCli(args: readonly string[], options: { input?: string; timeout: number }): Promise<ProcessResult> {
  return runProcess(process.execPath, cliArgs(args), {
    cwd: repoRoot,
    input: options.input,
    env: cliEnv,
    timeout: options.timeout,
  });
}
