import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { evaluateFiles, registerEvalCommand, EvalInputError } from '../../src/cli/evaluate.js';
import { ToolkitError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'eval-cli-'));
const file = (name: string, text: string): string => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const base = { beam: 1, lengthPenalty: 0, batchSize: 8 };

describe('translate eval (hypothesis files)', () => {
  it('scores BLEU, chrF and exact match of a hypothesis file against references, without starting a backend', async () => {
    const ref = file('ref.txt', 'the cat sat on the mat\nhello world\n');
    let started = false;
    const report = await evaluateFiles(
      { ...base, hyp: file('hyp.txt', 'the cat sat on the mat\nhello world\n'), ref: [ref] },
      () => {
        started = true;
        return Promise.resolve();
      },
    );
    expect(report).toMatch(/^BLEU = 100\.00 /m);
    expect(report).toMatch(/exact match = 100\.00%/);
    expect(started).toBe(false);
    const lower = await evaluateFiles(
      { ...base, hyp: file('upper.txt', 'THE CAT SAT ON THE MAT\nHELLO WORLD\n'), ref: [ref], lowercase: true },
      () => Promise.resolve(),
    );
    expect(lower).toMatch(/^BLEU = 100\.00 /m);
  });

  it('needs exactly one of --model and --hyp; line-count mismatches and missing files name the file', async () => {
    await expect(evaluateFiles({ ...base, ref: ['r'] }, () => Promise.resolve())).rejects.toThrow(EvalInputError);
    await expect(evaluateFiles({ ...base, ref: ['r'], hyp: 'h', model: 'm' }, () => Promise.resolve())).rejects.toThrow(
      /give either --model with --src, or --hyp/,
    );
    const ref = file('two.txt', 'a\nb\n');
    await expect(
      evaluateFiles({ ...base, hyp: file('one.txt', 'a\n'), ref: [ref] }, () => Promise.resolve()),
    ).rejects.toThrow(`${ref}: 2 lines, but there is 1 hypothesis`);
    await expect(
      evaluateFiles({ ...base, hyp: ref, ref: [file('one.txt', 'a\n')] }, () => Promise.resolve()),
    ).rejects.toThrow(`one.txt: 1 line, but there are 2 hypotheses`);
    // An empty test set would score 0.00 everywhere: refused, naming the file.
    const empty = file('empty.txt', '');
    await expect(evaluateFiles({ ...base, hyp: empty, ref: [empty] }, () => Promise.resolve())).rejects.toThrow(
      `${empty}: no lines to score`,
    );
    await expect(
      evaluateFiles({ ...base, model: 'm', src: empty, ref: [empty] }, () => Promise.resolve()),
    ).rejects.toThrow(`${empty}: no lines to score`);
    const e = await evaluateFiles({ ...base, hyp: join(dir, 'nope.txt'), ref: [ref] }, () => Promise.resolve()).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ToolkitError);
    expect((e as Error).message).toMatch(/nope\.txt: cannot open/);
  });

  it('refuses an --out that is the --src or a --ref file (by its path or another name): it would be replaced', async () => {
    const src = file('src.txt', 'one two\nthree\n');
    const ref = file('refs.txt', '12\n3\n');
    symlinkSync(src, join(dir, 'src-link.txt'));
    let started = false;
    const start = () => {
      started = true;
      return Promise.resolve();
    };
    for (const [out, message] of [
      [src, `--out ${src} is the --src file ${src}: writing there would replace it`],
      [ref, `--out ${ref} is the --ref file ${ref}: writing there would replace it`],
      [join(dir, '.', 'src-link.txt'), 'is the --src file'],
    ] as const)
      await expect(evaluateFiles({ ...base, model: 'm', src, ref: [ref], out }, start)).rejects.toThrow(message);
    // Refused before anything starts, and the files are as they were.
    expect(started).toBe(false);
    expect(readFileSync(src, 'utf8')).toBe('one two\nthree\n');
    expect(readFileSync(ref, 'utf8')).toBe('12\n3\n');
  });

  it('registers eval; a bad --length-penalty is a usage error naming the flag', async () => {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
    registerEvalCommand(program, () => Promise.resolve());
    await expect(program.parseAsync(['node', 't', 'eval', '--ref', 'r', '--length-penalty', '-1'])).rejects.toThrow(
      /--length-penalty must be a number ≥ 0/,
    );
  });
});
