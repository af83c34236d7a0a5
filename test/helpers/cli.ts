// Running the `translate` CLI from source (tsx) in a child process, on wasm, as the CLI tests do.
// Child processes run asynchronously: a test worker that blocks in spawnSync cannot answer vitest's runner, whose
// calls time out after 60 s of a blocked event loop ("Timeout calling onTaskUpdate") although every test passes.
import { spawn } from 'node:child_process';
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
export function runCli(
  args: readonly string[],
  options: { input?: string; timeout: number; env?: Record<string, string> },
): Promise<ProcessResult> {
  return runProcess(process.execPath, cliArgs(args), {
    cwd: repoRoot,
    input: options.input,
    env: { ...cliEnv, ...options.env },
    timeout: options.timeout,
  });
}

/**
 * Starts `translate serve` on a free loopback port: `ready` resolves to its URL once it is listening and its models
 * are loaded (and rejects if it exits first); `exited` to its exit code.
 */
export function startServe(args: readonly string[]) {
  const child = spawn(process.execPath, cliArgs(['serve', '--host', '127.0.0.1', '--port', '0', ...args]), {
    cwd: repoRoot,
    env: cliEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
      if (url !== undefined && stderr.includes('translate serve: ready:')) resolve(url);
    });
    void exited.then((code) => reject(new Error(`the server exited (${code}) before it was ready:\n${stderr}`)));
  });
  return { child, ready, exited, stderr: () => stderr };
}
