import { describe, it, expect } from 'vitest';
import { runProcess } from '../helpers/process.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { formatProgress, ProgressBar, type ProgressLine } from '../../src/cli/progress.js';
import { cliArgs, cliEnv, repoRoot } from '../helpers/cli.js';

/** ANSI escape sequences, built from the escape character's code (a literal one in a regex trips no-control-regex). */
const ESC = String.fromCharCode(27);
/** "erase to the end of the line", at the end of a draw (optionally before its newline). */
const ERASE_AT_END = new RegExp(`${ESC}\\[K\\n?$`);
/** A carriage return or any escape: what a non-TTY stream must never get. */
const CR_OR_ESC = new RegExp(`\\r|${ESC}`);
/** Every "erase to the end of the line". */
const ERASE_ALL = new RegExp(`${ESC}\\[K`, 'g');

const line: ProgressLine = {
  step: 150,
  steps: 200,
  startStep: 100,
  loss: 1.23456,
  tokensPerSecond: 3210.4,
  elapsedSeconds: 50,
  learningRate: 0.003,
  epoch: 2,
};

describe('formatProgress', () => {
  it('shows step, epoch, loss, learning rate, tokens/s and an ETA counted from the session start', () => {
    // 50 steps this session in 50 s → 50 steps left take 50 s.
    expect(formatProgress(line, { barWidth: 10 })).toBe(
      '[########..] step 150/200  epoch 3  loss 1.2346  lr 0.00300  3210 tok/s  elapsed 0:50  ETA 0:50',
    );
  });

  it('drops the least important fields first to fit the width: epoch, learning rate, elapsed, tokens/s, then the bar', () => {
    const full = formatProgress(line);
    expect(full).toHaveLength(109);
    expect(formatProgress(line, { columns: 120 })).toBe(full);
    expect(formatProgress(line, { columns: 100 })).toBe(
      '[###########....] step 150/200  epoch 3  loss 1.2346  lr 0.00300  3210 tok/s  elapsed 0:50  ETA 0:50',
    );
    expect(formatProgress(line, { columns: 90 })).toBe(
      '[###########...] step 150/200  loss 1.2346  lr 0.00300  3210 tok/s  elapsed 0:50  ETA 0:50',
    );
    expect(formatProgress(line, { columns: 80 })).toBe(
      '[############....] step 150/200  loss 1.2346  3210 tok/s  elapsed 0:50  ETA 0:50',
    );
    expect(formatProgress(line, { columns: 60 })).toBe('[########..] step 150/200  loss 1.2346  3210 tok/s  ETA 0:50');
    // Too narrow for a bar: the three fields that matter most.
    expect(formatProgress(line, { columns: 40 })).toBe('step 150/200  loss 1.2346  ETA 0:50');
    expect(formatProgress(line, { columns: 20 })).toBe('step 150/200');
    expect(formatProgress(line, { columns: 5 })).toBe('step ');
  });

  it('never exceeds the width and always begins with the bar or the step, whatever the width', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 100_000 }), (columns, steps) => {
        const text = formatProgress({ ...line, step: Math.ceil(steps / 2), steps }, { columns });
        expect(text.length).toBeLessThanOrEqual(columns);
        expect(text).not.toMatch(/[\r\n]/);
        if (columns >= 12 + 2 * String(steps).length) expect(text).toMatch(/^(\[[#.]+\] )?step /);
      }),
    );
  });

  it('pads the step to the width of the total, so that the line keeps its length as the count grows', () => {
    expect(formatProgress({ ...line, step: 7, steps: 1000 }, { barWidth: 0 })).toMatch(/^step {4}7\/1000 {2}/);
  });
});

/** A stream that records what is written, posing as a terminal of `columns` or as a pipe. */
function recorder(columns?: number): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const w = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  if (columns !== undefined) Object.assign(w, { isTTY: true, columns });
  return { stream: w, text: () => text };
}

describe('ProgressBar', () => {
  it('on a terminal, redraws one line in place with \\r, fitted to its width, at most every redrawMs', () => {
    const r = recorder(60);
    let clock = 0;
    const bar = new ProgressBar(r.stream, { now: () => clock, redrawMs: 100 });
    for (let step = 1; step <= 10; step++) {
      clock += 30;
      bar.update({ ...line, step, steps: 10, startStep: 0 });
    }
    bar.done();
    const draws = r
      .text()
      .split('\r')
      .filter((d) => d !== '');
    // Clock 30, 60 … 300: drawn at 30, 150, 270 and the last step.
    expect(draws).toHaveLength(4);
    for (const d of draws) expect(d.replace(ERASE_AT_END, '').length).toBeLessThanOrEqual(59);
    expect(r.text().endsWith('\n')).toBe(true);
    expect(r.text().split('\n')).toHaveLength(2);
  });

  it('into a pipe, writes plain lines (no \\r, no bar): the first and last steps, every everySteps but not faster than minSeconds, and at least every maxSeconds', () => {
    const r = recorder();
    let clock = 0;
    const bar = new ProgressBar(r.stream, { now: () => clock, everySteps: 10, minSeconds: 5, maxSeconds: 60 });
    // Steps 1–100 one second apart, then 101–110 twenty seconds apart.
    for (let step = 1; step <= 110; step++) {
      clock += step <= 100 ? 1000 : 20_000;
      bar.update({ ...line, step, steps: 110, startStep: 0 });
    }
    bar.done();
    const lines = r.text().trimEnd().split('\n');
    expect(r.text()).not.toMatch(CR_OR_ESC);
    expect(lines.map((l) => Number(/^step +(\d+)/.exec(l)?.[1]))).toEqual([
      1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 103, 106, 109, 110,
    ]);
    expect(lines.every((l) => l.startsWith('step '))).toBe(true);
  });

  it('prints nothing when quiet', () => {
    const r = recorder(80);
    const bar = new ProgressBar(r.stream, { quiet: true });
    bar.update({ ...line, step: 200 });
    bar.done();
    expect(r.text()).toBe('');
  });
});

describe('the progress line of a real run', () => {
  const demo = (out: string): string[] =>
    cliArgs(['demo', 'number-words', '--steps', '12', '--hidden', '8', '--embedding', '4', '--out', out]);
  const dir = mkdtempSync(join(tmpdir(), 'seq2seq-progress-'));
  const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;

  it.each([60, 120])(
    'in a pseudo-terminal of %i columns, every redraw fits (no wrapped line) and is drawn in place',
    async (columns) => {
      // script(1) from util-linux runs the command on a pseudo-terminal; stty sets its width.
      const command = `stty cols ${columns}; ${[process.execPath, ...demo(join(dir, `tty${columns}`))].map(quote).join(' ')}`;
      const r = await runProcess('script', ['-qfec', command, '/dev/null'], {
        cwd: repoRoot,
        env: cliEnv,
        timeout: 120_000,
      });
      expect(r.code).toBe(0);
      const progress = r.stdout.split('\n').find((l) => l.includes('step 12/12'))!;
      const draws = progress
        .split('\r')
        .map((d) => d.replace(ERASE_ALL, ''))
        .filter((d) => d.trim() !== '');
      expect(draws.length).toBeGreaterThan(1);
      for (const d of draws) {
        expect(d.length).toBeLessThan(columns);
        expect(d).toMatch(/step +\d+\/12 {2}loss \d/);
      }
      // Wide enough for everything: tokens per second and the elapsed time appear.
      if (columns === 120) expect(draws.at(-1)).toMatch(/tok\/s {2}elapsed /);
      else expect(draws.at(-1)).not.toMatch(/elapsed/);
      expect(r.stdout).toMatch(/try: npx translate translate --model /);
    },
    120_000,
  );

  it('into a pipe, plain lines without \\r', async () => {
    const r = await runProcess(process.execPath, demo(join(dir, 'pipe')), {
      cwd: repoRoot,
      env: cliEnv,
      timeout: 120_000,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(CR_OR_ESC);
    expect(r.stderr).toMatch(/^step {2}1\/12 {2}loss .* ETA .*$/m);
    expect(r.stderr).toMatch(/^step 12\/12 {2}loss .* ETA 0:00$/m);
  }, 120_000);
});
