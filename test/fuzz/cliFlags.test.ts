// Fuzzing `translate train`'s flag parsing with random values for its flags, --set expressions and config files,
// and `translate eval`'s scoring with random hypothesis and reference files: every outcome is a commander usage
// error, a ToolkitError (one line for the user), or a configuration accepted as far as starting the backend,
// never a TypeError or another crash the CLI would print as "internal error".
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Command, CommanderError } from 'commander';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerTrainCommand } from '../../src/cli/train.js';
import { evaluateFiles } from '../../src/cli/evaluate.js';
import { ToolkitError } from '../../src/errors.js';
import { fuzzRuns } from './settings.js';

const dir = mkdtempSync(join(tmpdir(), 'fuzz-flags-'));
let n = 0;

/** Thrown by the fake backend: the flags were accepted up to the point where training would start. */
class Accepted extends Error {}

const VALUE_FLAGS = [
  '--valid-split',
  '--tokenizer',
  '--target-tokenizer',
  '--buckets',
  '--bucket-count',
  '--max-vocab',
  '--min-count',
  '--max-chars',
  '--limit',
  '--batch-size',
  '--embedding',
  '--hidden',
  '--cell',
  '--attention',
  '--encoder-layers',
  '--decoder-layers',
  '--encoder-hidden',
  '--dropout',
  '--state-keep',
  '--bridge',
  '--freeze-embeddings',
  '--seed',
  '--steps',
  '--optimizer',
  '--learning-rate',
  '--momentum',
  '--clip-norm',
  '--schedule',
  '--lr-decay',
  '--eval-every',
  '--checkpoint-every',
  '--metric',
  '--patience',
  '--non-finite',
  '--softmax',
  '--num-sampled',
  '--label-smoothing',
  '--average',
  '--decode-sentences',
];
const SWITCHES = [
  '--lowercase',
  '--bidirectional',
  '--no-bidirectional',
  '--residual',
  '--share-embeddings',
  '--no-reverse-source',
  '--resume',
  '--reset-optimizer',
  '--reschedule',
  '--quiet',
];

const flagValue = fc.oneof(
  fc.integer({ min: -5, max: 5000 }).map(String),
  fc.double().map(String),
  fc.constantFrom(
    'NaN',
    'Infinity',
    '-Infinity',
    '1e400',
    '-0',
    '0x10',
    '',
    ' ',
    '1,2',
    '5,10;10,15',
    'auto',
    'default',
    'gru',
    'lstm',
    'adam',
    'sgd',
    'cosine',
    'plateau',
    'bahdanau',
    'dot',
    'sampled',
    'full',
    'word:fr',
    'sp:',
    'char',
    '__proto__',
    'constructor',
    '{}',
    '[]',
    'true',
    'null',
  ),
  fc.string({ maxLength: 8 }),
);
const setExpr = fc
  .tuple(
    fc.constantFrom('data', 'model', 'training', 'loss', 'validation', '__proto__', 'constructor', 'x'),
    fc.constantFrom(
      'batchSize',
      'hiddenSize',
      'steps',
      'schedule',
      'schedule.kind',
      'cell.kind',
      'dropout.inputKeep',
      'softmax',
      '__proto__',
      'constructor',
      'toString',
      'buckets',
      'corpus',
    ),
    fc.oneof(
      flagValue,
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
    ),
  )
  .map(([s, k, v]) => `${s}.${k}=${v}`);

const args = fc.record({
  values: fc.array(fc.tuple(fc.constantFrom(...VALUE_FLAGS), flagValue), { maxLength: 6 }),
  switches: fc.subarray(SWITCHES),
  sets: fc.array(setExpr, { maxLength: 3 }),
  config: fc.option(
    fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 30 }),
      fc
        .record({
          data: fc.dictionary(
            fc.constantFrom('corpus', 'batchSize', 'buckets', 'constructor', '__proto__'),
            fc.jsonValue({ maxDepth: 1 }),
            { maxKeys: 3 },
          ),
        })
        .map((v) => JSON.stringify(v)),
    ),
    { freq: 3 },
  ),
});

describe('translate train: random flag values', () => {
  it('give a usage error, a one-line ToolkitError, or an accepted configuration; nothing else', async () => {
    const seen = { accepted: 0, usage: 0, toolkit: 0 };
    await fc.assert(
      fc.asyncProperty(args, async (a) => {
        const program = new Command()
          .exitOverride()
          .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
        registerTrainCommand(program, () => Promise.reject(new Accepted()));
        const argv = ['--corpus', join(dir, 'corpus.tsv'), '--out', join(dir, `out${n++}`)];
        for (const [flag, value] of a.values) argv.push(flag, value);
        argv.push(...a.switches);
        for (const s of a.sets) argv.push('--set', s);
        if (a.config !== null) {
          const file = join(dir, `config${n++}.json`);
          writeFileSync(file, a.config);
          argv.push('--config', file);
        }
        try {
          await program.parseAsync(['node', 'translate', 'train', ...argv]);
        } catch (e) {
          if (e instanceof Accepted) seen.accepted++;
          else if (e instanceof CommanderError) seen.usage++;
          else if (e instanceof ToolkitError) {
            seen.toolkit++;
            expect(e.message).not.toContain('\n');
          } else throw e;
          return;
        }
        throw new Error('train returned without starting the backend');
      }),
      fuzzRuns(300),
    );
    // The cases reach every outcome (else the property tests less than it says).
    expect(Math.min(seen.accepted, seen.usage, seen.toolkit)).toBeGreaterThan(0);
  });
});

describe('translate eval: random hypothesis and reference files', () => {
  it('score, or refuse with a one-line ToolkitError naming the file', async () => {
    const line = fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom('', ' ', 'a b c', '\t', '\r'));
    const file = fc.oneof(
      fc.array(line, { maxLength: 8 }).map((ls) => Buffer.from(ls.join('\n'), 'utf8')),
      fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
    );
    await fc.assert(
      fc.asyncProperty(
        file,
        fc.array(file, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        async (hyp, refs, lowercase) => {
          const hypFile = join(dir, `hyp${n++}`);
          writeFileSync(hypFile, hyp);
          const refFiles = refs.map((r) => {
            const f = join(dir, `ref${n++}`);
            writeFileSync(f, r);
            return f;
          });
          try {
            const report = await evaluateFiles(
              { hyp: hypFile, ref: refFiles, beam: 1, lengthPenalty: 0, batchSize: 8, lowercase },
              () => Promise.resolve(undefined),
            );
            expect(report).toMatch(/^scored: /);
            expect(report).toMatch(/BLEU/);
          } catch (e) {
            if (!(e instanceof ToolkitError)) throw e;
            expect(e.message).not.toContain('\n');
            expect([hypFile, ...refFiles].some((f) => e.message.startsWith(f))).toBe(true);
          }
        },
      ),
      fuzzRuns(150),
    );
  });
});
