// `translate translate` on text nobody tuned for: unknown words, subword models, long lines, streaming, ensembles.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../helpers/backend.js';
import { runCli, cliArgs, cliEnv, repoRoot } from '../helpers/cli.js';
import { Translator } from '../../src/translation/translator.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../../src/translation/seq2seq.js';
import { Vocabulary } from '../../src/data/text/vocabulary.js';
import { WordTokenizer } from '../../src/data/text/tokenizers.js';
import { tinySentencePieceTranslator } from '../helpers/serveModels.js';

const cli = (args: string[], input?: string) => runCli(args, { input, timeout: 60_000 });
const dir = mkdtempSync(join(tmpdir(), 'seq2seq-translate-cli-'));
let wordModel = '';
let wordModel2 = '';
let spModel = '';
let otherVocabulary = '';

// Text full of words no toy model has seen, and characters no training text had.
const unseen = [
  'Ein Mann mit Graffiti auf der Wand .',
  '„Zwölf“ Hunde 🐕 springen über 3 Zäune',
  'ein Mann',
  '',
  'Übermorgen?',
];

beforeAll(async () => {
  await useTestBackend();
  const words = new WordTokenizer({});
  const source = new Vocabulary(['ein', 'Mann', 'Hund', '.']);
  const target = new Vocabulary(['a', 'man', 'dog', '.']);
  const make = async (seed: number, vocab = source) => {
    const t = new Translator(
      new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed }, vocab.size, target.size),
      vocab,
      target,
      words,
      words,
    );
    const out = join(dir, `word-${seed}-${vocab.size}`);
    await t.save(out);
    t.dispose();
    return out;
  };
  wordModel = await make(1);
  wordModel2 = await make(2);
  otherVocabulary = await make(3, new Vocabulary(['ein', 'Mann']));
  const t = await tinySentencePieceTranslator();
  spModel = join(dir, 'sp');
  await t.save(spModel);
  t.dispose();
});

describe('translate translate on unseen text', () => {
  for (const kind of ['word', 'subword'] as const) {
    it(`never writes an empty line for a non-empty input line (${kind} model), and reports unknown words on stderr`, async () => {
      const r = await cli(
        ['translate', '--model', kind === 'word' ? wordModel : spModel, '--beam', '3'],
        unseen.join('\n') + '\n',
      );
      expect(r.code).toBe(0);
      const out = r.stdout.split('\n').slice(0, -1);
      expect(out).toHaveLength(unseen.length);
      out.forEach((line, i) => expect(line.length > 0).toBe(unseen[i]!.length > 0));
      expect(r.stderr).not.toMatch(/\n\s+at /);
      if (kind === 'word')
        expect(r.stderr).toMatch(/3 of 5 lines held words outside the model's vocabulary \(\d+ tokens: .*"Graffiti"/);
    });
  }

  it('counts one line and one unknown token in the singular', async () => {
    const r = await cli(['translate', '--model', wordModel], 'Graffiti\n');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/1 of 1 line held words outside the model's vocabulary \(1 token: "Graffiti"\)/);
  });

  it('gives per line the unknown words, the source and output tokens and an alignment in jsonl (--attention: the matrix)', async () => {
    const r = await cli(
      ['translate', '--model', wordModel, '--format', 'jsonl', '--attention'],
      unseen.slice(0, 2).join('\n') + '\n',
    );
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows[0].unknown).toEqual(['Ein', 'mit', 'Graffiti', 'auf', 'der', 'Wand']);
    for (const row of rows) {
      expect(row.alignment).toHaveLength(row.targetTokens.length);
      expect(row.attention).toHaveLength(row.targetTokens.length);
      for (const a of row.alignment) expect(a).toBeLessThan(row.sourceTokens.length);
    }
  });

  it('refuses an over-long line alone: the other lines are translated and written in order, exit 1, no stack trace', async () => {
    const huge = 'Mann '.repeat(300_000); // 1.5 MB, over the 1 MiB line limit
    const many = 'ein '.repeat(500); // 500 tokens, over --max-input-tokens 400
    const r = await cli(
      ['translate', '--model', wordModel, '--beam', '1'],
      ['ein Mann', huge, 'ein Hund', many, 'Mann'].join('\n') + '\n',
    );
    expect(r.code).toBe(1);
    const out = r.stdout.split('\n').slice(0, -1);
    expect(out).toHaveLength(5);
    expect(out.map((l) => l.length > 0)).toEqual([true, false, true, false, true]);
    expect(r.stderr).toMatch(/stdin line 2: longer than 1048576 bytes/);
    expect(r.stderr).toMatch(/stdin line 4: 500 tokens, over --max-input-tokens 400/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const alone = await cli(['translate', '--model', wordModel, '--beam', '1', 'ein Mann', 'ein Hund', 'Mann']);
    expect([out[0], out[2], out[4]]).toEqual(alone.stdout.trim().split('\n'));
  });

  it('streams: answers arrive while the input pipe is still open', async () => {
    const child = spawn(process.execPath, cliArgs(['translate', '--model', wordModel, '--beam', '1']), {
      cwd: repoRoot,
      env: cliEnv,
    });
    let stdout = '';
    const firstAnswer = new Promise<void>((done) =>
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.split('\n').length > 2) done();
      }),
    );
    child.stdin.write('ein Mann\nein Hund\n');
    // Both lines are answered before the input ends.
    await firstAnswer;
    expect(
      stdout
        .split('\n')
        .slice(0, 2)
        .every((l) => l.length > 0),
    ).toBe(true);
    child.stdin.end('Mann\n');
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(3);
  });

  it('decodes an ensemble of models, and refuses models of other vocabularies by name', async () => {
    const one = await cli(['translate', '--model', wordModel, 'ein Mann', 'ein Hund']);
    const same = await cli(['translate', '--model', wordModel, '--model', wordModel, 'ein Mann', 'ein Hund']);
    expect(same.code).toBe(0);
    expect(same.stdout).toBe(one.stdout);
    const two = await cli(['translate', '--model', wordModel, '--model', wordModel2, 'ein Mann']);
    expect(two.code).toBe(0);
    expect(two.stdout.trim().length).toBeGreaterThan(0);
    const bad = await cli(['translate', '--model', wordModel, '--model', otherVocabulary, 'ein Mann']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      new RegExp(`${otherVocabulary.replace(/[/.-]/g, '\\$&')} has another source vocabulary`),
    );
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it('quotes unknown words on stderr cut to 40 characters and at most 10 a line (a 500,000-character word made a 500 KB line)', async () => {
    const word = 'x'.repeat(500_000);
    const r = await cli(['translate', '--model', wordModel, '--beam', '1'], `ein ${word}\n`);
    expect(r.code).toBe(0);
    expect(r.stderr.length).toBeLessThan(1000);
    expect(r.stderr).toContain(`(1 token: "${'x'.repeat(40)}"… (500000 characters)); translated anyway`);
    const many = Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ');
    const refused = await cli(['translate', '--model', wordModel, '--unknown', 'error'], `${many}\n`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'unknown "w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "w9", … (30 in all)',
    );
  });

  it('takes the widest beam it allows and refuses a wider one in one line (beam 10⁵ once crashed allocating 10¹⁰ floats)', async () => {
    const widest = await cli(['translate', '--model', wordModel, '--beam', '1024', '--n-best', '2', 'ein Mann']);
    expect(widest.code).toBe(0);
    expect(widest.stdout.trim().split('\n')).toHaveLength(2);
    for (const beam of ['1025', '100000']) {
      const r = await cli(['translate', '--model', wordModel, '--beam', beam, 'ein Mann']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(`argument '${beam}' is invalid. --beam must be an integer from 1 to 1024`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
