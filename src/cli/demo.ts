// `translate demo number-words`: train, report, save. Ctrl-C stops training after the current step; the model
// trained so far is still evaluated and saved.
import { trainNumberWords, evaluateNumberWords, DEFAULT_NUMBER_WORDS_DEMO, type EvaluationResult } from '../demo/numberWords.js';
import { Translator } from '../translator.js';
import { CharTokenizer } from '../data/tokenizers.js';
import type { ProgressBar } from './progress.js';
import { DEFAULT_CELL, type CellKind } from '../encoder/cell.js';

export interface DemoFlags {
  steps: number;
  batchSize: number;
  hidden: number;
  embedding: number;
  learningRate: number;
  attention: boolean;
  cell: CellKind;
  peepholes?: boolean;
  minDigits: number;
  maxDigits: number;
  shortShare: number;
  seed: number;
  out: string;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

function report(name: string, r: EvaluationResult): string {
  return `${name}: exact match ${pct(r.exactMatch)}, token accuracy ${pct(r.tokenAccuracy)} (${r.sentences} numbers)`;
}

export async function runNumberWordsDemo(flags: DemoFlags, bar: ProgressBar): Promise<void> {
  const stop = new AbortController();
  const onSigint = (): void => {
    if (stop.signal.aborted) process.exit(130);
    process.stderr.write('\ninterrupted: finishing this step, then evaluating and saving (Ctrl-C again to quit now)\n');
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  const started = performance.now();
  let tokens = 0;
  const options = {
    ...DEFAULT_NUMBER_WORDS_DEMO,
    steps: flags.steps,
    batchSize: flags.batchSize,
    task: { minDigits: flags.minDigits, maxDigits: flags.maxDigits, shortShare: flags.shortShare, seed: flags.seed },
    model: { ...DEFAULT_NUMBER_WORDS_DEMO.model, hiddenSize: flags.hidden, embeddingSize: flags.embedding, attention: flags.attention ? ('dot' as const) : ('none' as const), seed: flags.seed, cell: { ...DEFAULT_CELL, kind: flags.cell, peepholes: flags.peepholes ?? false } },
    trainer: { ...DEFAULT_NUMBER_WORDS_DEMO.trainer, learningRate: flags.learningRate },
  };
  process.stderr.write(
    `number-words: ${options.model.attention === 'dot' ? 'GRU encoder–decoder with dot-product attention' : 'GRU encoder–decoder without attention'}, ` +
      `${flags.hidden} units, ${flags.steps} steps of ${flags.batchSize}, digits ${flags.minDigits}–${flags.maxDigits}, seed ${flags.seed}\n`,
  );
  const run = await trainNumberWords(options, (p) => {
    tokens += p.tokens;
    const elapsed = (performance.now() - started) / 1000;
    bar.update({ step: p.step, steps: p.steps, loss: p.loss, tokensPerSecond: tokens / elapsed, elapsedSeconds: elapsed });
  }, stop.signal);
  bar.done();
  process.off('SIGINT', onSigint);
  try {
    const trainSeconds = run.trainSeconds;
    const valid = evaluateNumberWords(run.model, run.task.valid, run.vocabs);
    const long = evaluateNumberWords(run.model, run.task.long, run.vocabs);
    const short = run.task.short.length > 0 ? evaluateNumberWords(run.model, run.task.short, run.vocabs) : null;
    const [lo, hi] = run.task.options.longDigits;
    const out = process.stdout;
    out.write(`trained ${run.losses.length} steps in ${trainSeconds.toFixed(0)} s (${Math.round(tokens / trainSeconds)} target tokens/s), final loss ${run.losses.at(-1)?.toFixed(4)}\n`);
    out.write(`${report(`validation, ${run.task.options.minDigits}–${run.task.options.maxDigits} digits (held out)`, valid)}\n`);
    out.write(`accuracy per target position: ${valid.positionAccuracy.map((a, i) => `${i + 1}:${(100 * a).toFixed(1)}`).join(' ')}  (last = EOS after the longest)\n`);
    out.write(`${report(`length generalisation, ${lo}–${hi} digits (longer than any in training)`, long)}\n`);
    if (short !== null) out.write(`${report(`short numbers, 1–${run.task.options.minDigits - 1} digits (${(100 * run.task.options.shortShare).toFixed(0)}% of training)`, short)}\n`);
    const chars = new CharTokenizer();
    const translator = new Translator(run.model, run.vocabs.source, run.vocabs.target, chars, chars, {
      task: 'number-words',
      steps: run.losses.length,
      trainSeconds: Math.round(trainSeconds),
      options,
      validation: valid,
      long,
      short,
    });
    await translator.save(flags.out);
    out.write(`saved to ${flags.out}  (try: translate translate --model ${flags.out} "one two five")\n`);
  } finally {
    run.model.dispose();
  }
}
