// Running the `translate` CLI from source (tsx) in a child process, on wasm, as the CLI tests do.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

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

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: readonly string[], options: { input?: string; timeout: number }): CliResult {
  const r = spawnSync(process.execPath, cliArgs(args), {
    cwd: repoRoot,
    input: options.input,
    encoding: 'utf8',
    env: cliEnv,
    timeout: options.timeout,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
