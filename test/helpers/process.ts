// A child process run to its end without blocking the test worker's event loop (spawnSync's results, awaited).
import { spawn } from 'node:child_process';

export interface ProcessResult {
  /** The exit code; null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ProcessOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed (closed at once when absent). */
  input?: string;
  /** Milliseconds before the process is sent SIGTERM. */
  timeout?: number;
}

/** Runs `command args` and resolves when it has exited and its output is read; rejects when it cannot start. */
export function runProcess(
  command: string,
  args: readonly string[],
  options: ProcessOptions = {},
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = options.timeout === undefined ? undefined : setTimeout(() => child.kill('SIGTERM'), options.timeout);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    // A process that exits without reading its input closes the pipe: that is its business, not an error here.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input);
  });
}
