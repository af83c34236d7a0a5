import { describe, it, expect, beforeAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/random.js';
import { runCli, cliArgs, cliEnv, repoRoot } from '../helpers/cli.js';
import { runProcess } from '../helpers/process.js';

const root = repoRoot;
const env = cliEnv;
const args = (...a: string[]): string[] => cliArgs(a);

const cli = (...a: string[]) => runCli(a, { timeout: 120_000 });

let dir = '';
let corpus = '';
// A tiny parallel corpus: the target is the source reversed, upper-cased.
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'seq2seq-cli-train-'));
  const rng = new Rng(7);
  const lines = Array.from({ length: 150 }, () => {
    const words = Array.from({ length: rng.int(1, 5) }, () => `w${rng.int(0, 19)}`);
    return `${words.join(' ')}\t${[...words].reverse().join(' ').toUpperCase()}`;
  });
  corpus = join(dir, 'toy.tsv');
  writeFileSync(corpus, lines.join('\n') + '\n');
  writeFileSync(
    join(dir, 'run.json'),
    JSON.stringify({
      data: { corpus, tokenizer: 'space', batchSize: 16, validSplit: 20, buckets: 'default' },
      model: { hiddenSize: 16, embeddingSize: 8 },
      // A constant rate: the Ctrl-C test changes --steps between runs, which would move a cosine schedule.
      training: { steps: 16, evalEvery: 5, logEvery: 1, learningRate: 0.01, schedule: { kind: 'constant' } },
      loss: { softmax: 'sampled', numSampled: 12 },
      validation: { decodeSentences: 10 },
    }),
  );
});

const trainLosses = (out: string): Map<number, number> =>
  new Map(
    readFileSync(join(out, 'train.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.type === 'train')
      .map((r) => [r.step, r.loss]),
  );

describe('translate train', () => {
  it('Ctrl-C writes a checkpoint and exits; --resume then gives the same per-step losses as an uninterrupted run', async () => {
    const whole = join(dir, 'whole');
    const a = await cli('train', '--config', join(dir, 'run.json'), '--out', whole);
    expect(a.stderr).not.toMatch(/error/);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/training completed at step 16/);
    expect(a.stdout).toMatch(/last validation: loss \d+\.\d+, ppl .*BLEU/);

    const cut = join(dir, 'cut');
    // Interrupt as soon as the first progress line appears (the step it lands on varies; the result must not).
    const code = await new Promise<number | null>((done) => {
      const child = spawn(
        process.execPath,
        args('train', '--config', join(dir, 'run.json'), '--out', cut, '--steps', '400'),
        { cwd: root, env },
      );
      let sent = false;
      child.stderr.on('data', (d: Buffer) => {
        if (!sent && /step +1\/400/.test(d.toString())) {
          sent = true;
          child.kill('SIGINT');
        }
      });
      child.on('exit', (c) => done(c));
    });
    expect(code).toBe(130);
    const ck = JSON.parse(readFileSync(join(cut, 'model.json'), 'utf8'));
    const stoppedAt = ck.training.step as number;
    expect(stoppedAt).toBeGreaterThanOrEqual(1);
    expect(stoppedAt).toBeLessThan(16);
    // Resume to step 16 (only --steps may change).
    const b = await cli('train', '--out', cut, '--resume', '--steps', '16');
    expect(b.code).toBe(0);
    expect(b.stderr).toMatch(new RegExp(`resuming .* at step ${stoppedAt}`));
    const whole16 = trainLosses(whole);
    const resumed = trainLosses(cut);
    expect([...resumed.keys()]).toEqual([...whole16.keys()]);
    for (const [step, loss] of whole16) expect(Math.abs(resumed.get(step)! - loss) / loss).toBeLessThan(1e-6);
    expect(existsSync(join(cut, 'curves.svg'))).toBe(true);

    // The best checkpoint is a model directory the translate command loads.
    const t = await runProcess(
      process.execPath,
      args('translate', '--model', join(whole, 'best'), '--unknown', 'keep', 'w1 w2'),
      { cwd: root, env },
    );
    expect(t.code).toBe(0);
  }, 240_000);

  it('a reader that goes away (train … 2>&1 | head) does not stop the training: it runs to its last checkpoint', async () => {
    const out = join(dir, 'headless');
    const code = await new Promise<number | null>((done) => {
      const child = spawn(process.execPath, args('train', '--config', join(dir, 'run.json'), '--out', out), {
        cwd: root,
        env,
      });
      // Both pipes close at the first line, as `| head -1` closes its end.
      child.stderr.once('data', () => {
        child.stderr.destroy();
        child.stdout.destroy();
      });
      child.on('exit', (c) => done(c));
    });
    expect(code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).training.step).toBe(16);
  }, 120_000);

  it('takes the model zoo from flags: bidirectional, layers, dropout, Bahdanau attention, shared and pretrained (GloVe) embeddings', async () => {
    // A GloVe file covering two of the joint vocabulary's words, one of them only lowercased.
    const glove = join(dir, 'glove.txt');
    writeFileSync(glove, 'w1 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8\nw2 1 1 1 1 1 1 1 1\nW3 0 0 0 0 0 0 0 0\n');
    const out = join(dir, 'zoo');
    const r = await cli(
      'train',
      '--config',
      join(dir, 'run.json'),
      '--out',
      out,
      '--steps',
      '6',
      '--quiet',
      '--bidirectional',
      '--encoder-layers',
      '2',
      '--residual',
      '--dropout',
      '0.9',
      '--state-keep',
      '0.9',
      '--attention',
      'bahdanau',
      '--bridge',
      'dense',
      '--share-embeddings',
      '--pretrained-source',
      glove,
      '--freeze-embeddings',
      'source',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/model: bidirectional gru 16 units \(2\+1 layers\).*attention bahdanau/);
    // The joint vocabulary holds w1, w2, W3 as written and W1, W2 found lowercased (40 words in all).
    expect(r.stderr).toMatch(
      /pretrained source embeddings from .*glove\.txt: 5 of 40 vocabulary words found \(3 as written, 2 lowercased\)/,
    );
    const model = JSON.parse(readFileSync(join(out, 'best', 'model.json'), 'utf8'));
    expect(model.config).toMatchObject({
      bidirectional: true,
      encoderLayers: 2,
      residual: true,
      attention: 'bahdanau',
      bridge: 'dense',
      shareEmbeddings: true,
      freezeSourceEmbeddings: true,
      dropout: { inputKeep: 0.9, outputKeep: 0.9, stateKeep: 0.9 },
    });
    expect(model.extra.sourceVocabulary).toEqual(model.extra.targetVocabulary);
    const t = await cli('translate', '--model', join(out, 'best'), '--unknown', 'keep', 'w1 w2');
    expect(t.code, t.stderr).toBe(0);
  }, 120_000);

  it('rejects changes of configuration on --resume, unknown keys and bad values, naming them', async () => {
    const r = await cli('train', '--out', join(dir, 'whole'), '--resume', '--hidden', '32');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /only --steps, --learning-rate, --clip-norm, --schedule, --lr-decay \(and with --reset-optimizer --optimizer, --momentum\) may be given \(got model.hiddenSize\)/,
    );
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ training: { stepz: 3 } }));
    const u = await cli('train', '--config', bad, '--corpus', corpus);
    expect(u.code).toBe(1);
    expect(u.stderr).toContain(`${bad}: unknown key "training.stepz"`);
    const s = await cli('train', '--corpus', corpus, '--set', 'loss.softmax=hierarchical', '--out', join(dir, 'x'));
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(/--set loss.softmax=hierarchical: "loss.softmax" must be one of "full", "sampled"/);
    const again = await cli('train', '--config', join(dir, 'run.json'), '--out', join(dir, 'whole'));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds a model or checkpoint: resume it/);
    const missing = await cli('train', '--corpus', join(dir, 'nope.tsv'), '--out', join(dir, 'y'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope.tsv/);
  }, 120_000);
});

describe('hostile but fair use (issue 24)', () => {
  const oneLine = (stderr: string): string => {
    const lines = stderr.split('\n').filter((l) => l.startsWith('translate: '));
    expect(lines).toHaveLength(1);
    expect(stderr).not.toMatch(/internal error|\n\s+at /);
    return lines[0]!;
  };

  it('a live lock on --out refuses a second training; a stale one is taken over, and foreign files in --out survive', async () => {
    const busy = join(dir, 'busy');
    mkdirSync(busy);
    // The test runner itself is a live process on this host.
    writeFileSync(
      join(busy, 'train.lock'),
      JSON.stringify({ pid: process.pid, hostname: hostname(), started: '2026-11-30T00:00:00.000Z', token: 't' }),
    );
    const r = await cli('train', '--config', join(dir, 'run.json'), '--out', busy);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(
      new RegExp(`^translate: error: ${busy} is in use by another training \\(pid ${process.pid} on `),
    );

    const stale = join(dir, 'stale');
    mkdirSync(stale);
    const dead = Number(
      spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout,
    );
    writeFileSync(
      join(stale, 'train.lock'),
      JSON.stringify({ pid: dead, hostname: hostname(), started: '2026-11-30T00:00:00.000Z', token: 't' }),
    );
    const foreign = ['notes-0123456789abcdef.bin', 'x.tmp-1'];
    for (const f of foreign) writeFileSync(join(stale, f), "not the toolkit's");
    const s = await cli('train', '--config', join(dir, 'run.json'), '--out', stale, '--steps', '6');
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).toContain(`warning: took over the lock of ${stale} left by pid ${dead}`);
    for (const f of foreign) expect(readFileSync(join(stale, f), 'utf8')).toBe("not the toolkit's");
    expect(existsSync(join(stale, 'train.lock'))).toBe(false);
  }, 120_000);

  it('file-system mistakes are one line naming the path: a file as --out, --out under a file, a directory as corpus', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const asOut = await cli('train', '--config', join(dir, 'run.json'), '--out', file);
    expect(asOut.code).toBe(1);
    expect(oneLine(asOut.stderr)).toBe(
      `translate: error: ${file}: cannot create the output directory: already exists and is not a directory`,
    );
    const under = await cli('train', '--config', join(dir, 'run.json'), '--out', join(file, 'run'));
    expect(under.code).toBe(1);
    expect(oneLine(under.stderr)).toMatch(new RegExp(`^translate: error: ${file}.*is not a directory`));
    const dirCorpus = await cli('train', '--corpus', `tsv:${dir}`, '--out', join(dir, 'dc'));
    expect(dirCorpus.code).toBe(1);
    expect(oneLine(dirCorpus.stderr)).toBe(`translate: error: ${dir}: cannot read (is a directory, not a file)`);
  }, 120_000);

  it('eval --out into a missing folder is one line, before any translating', async () => {
    const out = join(dir, 'no-such-folder', 'hyp.txt');
    const src = join(dir, 'src.txt');
    writeFileSync(src, 'w1 w2\n');
    const r = await cli('eval', '--model', join(dir, 'whole', 'best'), '--src', src, '--ref', src, '--out', out);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(
      `translate: error: ${out}: cannot write the hypotheses: the folder ${join(dir, 'no-such-folder')} does not exist`,
    );
  }, 60_000);

  it('--resume takes a new learning rate and clipping, logging each change; a run that diverges before its first checkpoint says there is none', async () => {
    const out = join(dir, 'resumable');
    expect((await cli('train', '--config', join(dir, 'run.json'), '--out', out, '--steps', '5')).code).toBe(0);
    // A key given again with its saved value is no change; a new value of a key that fixes the run is refused.
    const other = await cli('train', '--out', out, '--resume', '--set', 'training.evalEvery=6');
    expect(other.code).toBe(1);
    expect(oneLine(other.stderr)).toMatch(/may be given \(got training.evalEvery\)/);
    const r = await cli(
      'train',
      '--out',
      out,
      '--resume',
      '--steps',
      '8',
      '--learning-rate',
      '0.005',
      '--clip-norm',
      '1',
      '--set',
      'training.evalEvery=5',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('resume: learningRate 0.01 → 0.005');
    expect(r.stderr).toContain('resume: clipNorm 5 → 1');
    const events = readFileSync(join(out, 'train.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((x) => x.event === 'resume-change');
    expect(events.map((x) => x.message)).toEqual(
      expect.arrayContaining(['learningRate 0.01 → 0.005', 'clipNorm 5 → 1']),
    );
    const ck = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(ck.training.step).toBe(8);
    expect(ck.training.options.learningRate).toBe(0.005);

    // Plain SGD at a rate of 1e38 overflows the weights at once: the loss is non-finite before any checkpoint exists.
    const diverged = join(dir, 'diverged');
    const d = await cli(
      'train',
      '--config',
      join(dir, 'run.json'),
      '--out',
      diverged,
      '--optimizer',
      'sgd',
      '--learning-rate',
      '1e38',
      '--clip-norm',
      '0',
    );
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/No checkpoint was written \(the run diverged before its first one\)/);
    expect(d.stderr).not.toMatch(/last good checkpoint/);
    expect(existsSync(join(diverged, 'model.json'))).toBe(false);
  }, 180_000);
});
