import { describe, it, expect, vi, afterEach, beforeAll } from 'vitest';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../helpers/backend.js';
import { trainWithProgress } from '../../src/cli/trainingRun.js';
import { Vocabulary } from '../../src/data/text/vocabulary.js';
import { CharTokenizer } from '../../src/data/text/tokenizers.js';
import { LanguageModel, DEFAULT_LANGUAGE_MODEL_CONFIG } from '../../src/heads/lm/languageModel.js';
import { TextLanguageModel } from '../../src/heads/lm/textLanguageModel.js';
import { LanguageModelTask } from '../../src/heads/lm/languageModelTask.js';

beforeAll(useTestBackend);
afterEach(() => vi.restoreAllMocks());

function tinyTask(): { lm: TextLanguageModel; task: LanguageModelTask } {
  const lines = ['abc', 'bcd', 'cde', 'def', 'abcd'];
  const tok = new CharTokenizer();
  const vocabulary = Vocabulary.build(lines.map((l) => tok.tokenize(l)));
  const lm = new TextLanguageModel(
    new LanguageModel({
      ...DEFAULT_LANGUAGE_MODEL_CONFIG,
      vocabSize: vocabulary.size,
      embeddingSize: 4,
      hiddenSize: 8,
    }),
    vocabulary,
    tok,
  );
  return {
    lm,
    task: new LanguageModelTask(
      lm,
      { train: lines.map((l) => lm.encode(l)), valid: lines.map((l) => lm.encode(l)) },
      { batchSize: 2 },
    ),
  };
}

describe('trainWithProgress', () => {
  it('runs the loop, reports each evaluation on stderr and the result, checkpoint and log on stdout; returns 0', async () => {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
    const dir = join(mkdtempSync(join(tmpdir(), 'training-run-')), 'run');
    const { lm, task } = tinyTask();
    try {
      const code = await trainWithProgress(
        task,
        { steps: 2, evalEvery: 1 },
        { out: dir, config: { config: { toy: true } } },
        {
          quiet: true,
          describe: (m) => `loss ${m['loss']!.toFixed(2)}`,
          usage: 'use it',
        },
      );
      expect(code).toBe(0);
    } finally {
      lm.dispose();
    }
    expect(err.join('')).toMatch(/step 1: validation loss \d+\.\d\d \([\d.]+ s\)/);
    const text = out.join('');
    expect(text).toMatch(/^training completed at step 2 /);
    expect(text).toMatch(/last validation: loss \d+\.\d\d/);
    expect(text).toContain(`checkpoint: ${dir} (resume with --resume; use it)`);
    expect(existsSync(join(dir, 'train.jsonl'))).toBe(true);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });
});
