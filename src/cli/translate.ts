// `translate translate`: text arguments, or stdin streamed line by line (a batch is translated as soon as the lines
// that have arrived fill it or the input pauses, so a pipe held open gets its answers), one output line per input
// line in input order. Every non-empty line is translated; unknown words are counted and reported on stderr.
// A line that cannot be translated (over-long; unknown words with --unknown error) gets a one-line error naming it
// and an empty output line, the others go on, and the exit code is 1.
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { int, num, collect, backendFlag } from './flags.js';
import { writeWaiting } from './stdout.js';
import { MAX_BEAM_SIZE } from '../search/beamRows.js';
import { readInputLines, DEFAULT_MAX_INPUT_LINE_BYTES, type InputLine } from './lineInput.js';
import { Translator, type Translation, type TranslateOptions } from '../translation/translator.js';
import { parsePhraseTable } from '../translation/alignment.js';
import { ToolkitError, withFileSystemErrors } from '../errors.js';

interface TranslateFlags {
  model: string[];
  beam: number;
  nBest: number;
  lengthPenalty: number;
  format: 'text' | 'jsonl';
  batchSize: number;
  unknown: 'error' | 'keep';
  replaceUnk: boolean;
  phraseTable?: string;
  attention?: boolean;
  maxInputTokens: number;
}

/** Longest source read, in tokens: longer lines are refused (the recurrent encoder's time and memory grow with it). */
export const DEFAULT_MAX_INPUT_TOKENS = 400;

export function registerTranslateCommand(
  program: Command,
  startBackend: (choice: string | undefined) => Promise<void>,
): void {
  program
    .command('translate')
    .description(
      'translate text arguments, or stdin line by line as it arrives (one output line per input line, same order)',
    )
    .requiredOption(
      '--model <dir>',
      'model directory written by training; repeat for an ensemble (log-probabilities averaged)',
      collect,
      [],
    )
    .option('--beam <k>', 'beam size, with length penalty; 1 = greedy', int('--beam', 1, MAX_BEAM_SIZE), 5)
    .option(
      '--n-best <n>',
      'hypotheses per input (text: Moses "i ||| text ||| score" lines; jsonl: a list)',
      int('--n-best'),
      1,
    )
    .option('--length-penalty <alpha>', 'GNMT length penalty α for beam search', num('--length-penalty'), 0.6)
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'jsonl']).default('text'))
    .option('--batch-size <n>', 'sentences translated together (at most this many in flight)', int('--batch-size'), 64)
    .addOption(
      new Option(
        '--unknown <policy>',
        'source words outside the vocabulary: keep (translate, report on stderr) or error (refuse the line)',
      )
        .choices(['keep', 'error'])
        .default('keep'),
    )
    .option(
      '--no-replace-unk',
      'keep the <unk> the model writes (default: replaced by the source word it attends to most)',
    )
    .option('--phrase-table <file>', 'source ||| target lines: how a copied unknown word is translated')
    .option('--attention', 'jsonl: add the full attention matrix of each translation')
    .option(
      '--max-input-tokens <n>',
      'refuse lines longer than this many source tokens',
      int('--max-input-tokens'),
      DEFAULT_MAX_INPUT_TOKENS,
    )
    .argument('[text...]', 'sentences to translate (default: read stdin)')
    .action(async (text: string[], opts: TranslateFlags) => {
      await startBackend(backendFlag(program));
      if (opts.nBest > opts.beam) throw new ToolkitError(`--n-best ${opts.nBest} is larger than --beam ${opts.beam}`);
      const phraseTable =
        opts.phraseTable === undefined
          ? undefined
          : parsePhraseTable(
              await withFileSystemErrors(opts.phraseTable, 'cannot read the phrase table', () =>
                readFile(opts.phraseTable!, 'utf8'),
              ),
              opts.phraseTable,
            );
      const translator = await loadTranslators(opts.model);
      const run = new TranslateRun(translator, opts, text.length > 0 ? 'argument' : 'stdin line', {
        batchSize: opts.batchSize,
        beamSize: opts.beam,
        nBest: opts.nBest,
        lengthPenalty: opts.lengthPenalty,
        replaceUnknown: opts.replaceUnk,
        ...(phraseTable !== undefined ? { phraseTable } : {}),
        alignments: opts.format === 'jsonl' ? (opts.attention ? 'matrix' : 'best') : 'none',
      });
      try {
        if (text.length > 0) await run.translateAll(text.map((t, i) => ({ line: i + 1, text: t, overLong: false })));
        else await run.stream(readInputLines(process.stdin, DEFAULT_MAX_INPUT_LINE_BYTES));
      } finally {
        translator.dispose();
      }
      const summary = run.summary();
      if (summary !== null) process.stderr.write(`${summary}\n`);
      if (run.failed > 0) process.exitCode = 1;
    });
}

async function loadTranslators(dirs: readonly string[]): Promise<Translator> {
  const loaded: Translator[] = [];
  try {
    for (const dir of dirs) loaded.push(await Translator.load(dir));
    return loaded.length === 1 ? loaded[0]! : Translator.ensemble(loaded, dirs);
  } catch (e) {
    for (const t of loaded) t.dispose();
    throw e;
  }
}

/** One `translate` invocation: turns input lines into output lines in order, counting failures and unknown words. */
class TranslateRun {
  failed = 0;
  private lines = 0;
  private linesWithUnknown = 0;
  private readonly unknownCounts = new Map<string, number>();
  private replaced = 0;

  constructor(
    private readonly translator: Translator,
    private readonly flags: TranslateFlags,
    private readonly what: string,
    private readonly options: TranslateOptions,
  ) {}

  /**
   * Translates lines as they arrive: waits for one, takes every line already there (up to --batch-size), translates
   * and writes them, and so on. The reader is paused while --batch-size lines wait, so memory stays bounded.
   */
  async stream(input: AsyncIterable<InputLine>): Promise<void> {
    const queue: InputLine[] = [];
    let ended = false;
    // What the input threw (a thrown non-Error becomes an Error with its text), rethrown after the lines before it.
    let failure = null as Error | null;
    // Who waits: the consumer for lines, the reader for room in the queue.
    const wake: { consumer: (() => void) | null; reader: (() => void) | null } = { consumer: null, reader: null };
    const reader = (async () => {
      try {
        for await (const line of input) {
          queue.push(line);
          wake.consumer?.();
          while (queue.length >= this.flags.batchSize) await new Promise<void>((r) => (wake.reader = r));
        }
      } catch (e) {
        failure = e instanceof Error ? e : new Error(String(e));
      } finally {
        ended = true;
        wake.consumer?.();
      }
    })();
    for (;;) {
      if (queue.length === 0) {
        if (ended) break;
        await new Promise<void>((r) => (wake.consumer = r));
        wake.consumer = null;
        continue;
      }
      // Lines already read but not yet delivered come in with this turn of the event loop.
      if (queue.length < this.flags.batchSize && !ended) await new Promise((r) => setImmediate(r));
      const batch = queue.splice(0, this.flags.batchSize);
      const resume = wake.reader;
      wake.reader = null;
      resume?.();
      await this.translateAll(batch);
    }
    await reader;
    if (failure !== null) throw failure;
  }

  /** Translates one batch of lines and writes their output lines, in order. */
  async translateAll(batch: readonly InputLine[]): Promise<void> {
    const refusals = new Map<number, string>();
    const accepted: { index: number; text: string }[] = [];
    batch.forEach((l, i) => {
      if (l.overLong) refusals.set(i, `longer than ${DEFAULT_MAX_INPUT_LINE_BYTES} bytes`);
      else {
        const tokens = this.translator.sourceTokenizer.tokenize(l.text.trim()).length;
        if (tokens > this.flags.maxInputTokens)
          refusals.set(i, `${tokens} tokens, over --max-input-tokens ${this.flags.maxInputTokens}`);
        else accepted.push({ index: i, text: l.text });
      }
    });
    const results = this.translator.translate(
      accepted.map((a) => a.text),
      this.options,
    );
    const byIndex = new Map<number, Translation>(accepted.map((a, k) => [a.index, results[k]!]));
    const out: string[] = [];
    batch.forEach((l, i) => {
      this.lines++;
      const r = byIndex.get(i);
      let refusal = refusals.get(i);
      if (r !== undefined && r.unknownTokens.length > 0) {
        this.linesWithUnknown++;
        for (const t of r.unknownTokens) this.unknownCounts.set(t, (this.unknownCounts.get(t) ?? 0) + 1);
        if (this.flags.unknown === 'error')
          refusal = `unknown ${quoteList([...new Set(r.unknownTokens)])} (not in the model's source vocabulary; --unknown keep translates anyway)`;
      }
      if (refusal !== undefined) {
        process.stderr.write(`translate: ${this.what} ${l.line}: ${refusal}\n`);
        this.failed++;
        // jsonl says why; text keeps one line per input (Moses n-best lines simply have none for it).
        if (this.flags.format === 'jsonl')
          out.push(JSON.stringify({ source: l.text.slice(0, 200), translation: null, error: refusal }));
        else if (this.flags.nBest === 1) out.push('');
        return;
      }
      this.replaced += r!.replacedUnknown;
      out.push(...this.format(l, r!));
    });
    if (out.length > 0) await writeWaiting(out.map((x) => `${x}\n`).join(''));
  }

  private format(l: InputLine, r: Translation): string[] {
    if (this.flags.format === 'jsonl') {
      const best = r.nBest[0];
      return [
        JSON.stringify({
          source: l.text,
          translation: r.text,
          nBest: r.nBest.map((h) => ({ text: h.text, score: h.score, logProb: h.logProb })),
          unknown: r.unknownTokens,
          sourceTokens: r.sourceTokens,
          targetTokens: best?.tokens ?? [],
          alignment: best?.alignment ?? [],
          ...(best?.attention !== undefined ? { attention: best.attention } : {}),
        }),
      ];
    }
    if (this.flags.nBest > 1) return r.nBest.map((h) => `${l.line - 1} ||| ${h.text} ||| ${h.score.toFixed(4)}`);
    return [r.text];
  }

  /** One line for stderr about unknown words, or null when there were none. */
  summary(): string | null {
    if (this.linesWithUnknown === 0) return null;
    const total = [...this.unknownCounts.values()].reduce((a, b) => a + b, 0);
    const top = [...this.unknownCounts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 5);
    const examples = top.map(([t, n]) => (n > 1 ? `${quoteToken(t)} ×${n}` : quoteToken(t))).join(', ');
    const handled =
      this.flags.unknown === 'error'
        ? 'those lines were refused (--unknown error)'
        : `translated anyway${this.replaced > 0 ? `, ${this.replaced} <unk> in the output copied from the source` : ''}`;
    const more = this.unknownCounts.size > 5 ? ', …' : '';
    return (
      `translate: ${this.linesWithUnknown} of ${this.lines} line${this.lines === 1 ? '' : 's'} held words outside ` +
      `the model's vocabulary (${total} token${total === 1 ? '' : 's'}: ${examples}${more}); ${handled}`
    );
  }
}

/** Tokens quoted for a stderr line: at most 10 of them, each cut to its first 40 characters. */
function quoteList(tokens: readonly string[]): string {
  const shown = tokens.slice(0, 10).map(quoteToken).join(', ');
  return tokens.length > 10 ? `${shown}, … (${tokens.length} in all)` : shown;
}

/** A token as JSON, cut to its first 40 characters (a line of one 500,000-character word made a 500 KB message). */
function quoteToken(token: string): string {
  const chars = [...token];
  return chars.length > 40
    ? `${JSON.stringify(chars.slice(0, 40).join(''))}… (${chars.length} characters)`
    : JSON.stringify(token);
}
