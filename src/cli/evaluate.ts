// `translate eval`: translate a source file with a model (or take a hypothesis file) and score it against one or
// more reference files with corpus BLEU (sacreBLEU-compatible), chrF and exact match.
import type { Command } from 'commander';
import { writeFile, stat } from 'node:fs/promises';
import { int, num, refuseInputAsOutput } from './flags.js';
import { MAX_BEAM_SIZE } from '../search/beamRows.js';
import * as path from 'node:path';
import { readLines as readTextLines } from '../data/readers.js';
import { Translator } from '../translation/translator.js';
import { corpusBleu, formatBleu } from '../metrics/bleu.js';
import { corpusChrF } from '../metrics/chrf.js';
import { ToolkitError, FileSystemError, withFileSystemErrors } from '../errors.js';

export interface EvalFlags {
  model?: string;
  src?: string;
  hyp?: string;
  ref: string[];
  beam: number;
  lengthPenalty: number;
  batchSize: number;
  lowercase?: boolean;
  out?: string;
}

export class EvalInputError extends ToolkitError {
  override name = 'EvalInputError';
}

/** All lines of a text file, plain or gzip (detected), UTF-8 checked line by line (errors name file and line). */
async function readLines(file: string): Promise<string[]> {
  const lines: string[] = [];
  for await (const { text } of readTextLines(file)) lines.push(text);
  return lines;
}

/** Throws FileSystemError when `file` could not be written: its folder is missing or not a folder, or it is a directory. */
async function checkWritable(file: string): Promise<void> {
  const folder = path.dirname(path.resolve(file));
  const st = await stat(folder).catch(() => null);
  if (st === null)
    throw new FileSystemError(file, 'ENOENT', `cannot write the hypotheses: the folder ${folder} does not exist`);
  if (!st.isDirectory())
    throw new FileSystemError(file, 'ENOTDIR', `cannot write the hypotheses: ${folder} is not a folder`);
  if ((await stat(file).catch(() => null))?.isDirectory())
    throw new FileSystemError(file, 'EISDIR', 'cannot write the hypotheses: is a directory');
}

export async function evaluateFiles(flags: EvalFlags, startBackend: () => Promise<void>): Promise<string> {
  if ((flags.hyp === undefined) === (flags.model === undefined))
    throw new EvalInputError('give either --model with --src, or --hyp');
  // Before minutes of translating: a --out that cannot be written is a mistake to report now.
  if (flags.out !== undefined && flags.model !== undefined) {
    const inputs = [
      ...(flags.src === undefined ? [] : [['--src', flags.src] as const]),
      ...flags.ref.map((r) => ['--ref', r] as const),
    ];
    await refuseInputAsOutput('--out', flags.out, inputs);
    await checkWritable(flags.out);
  }
  const refs = await Promise.all(flags.ref.map(readLines));
  let hyps: string[];
  let what: string;
  // An empty test set would score 0.00 everywhere, which reads as a model's failure, not a wrong file.
  const nothingToScore = (file: string): EvalInputError => new EvalInputError(`${file}: no lines to score`);
  if (flags.hyp !== undefined) {
    hyps = await readLines(flags.hyp);
    what = flags.hyp;
    if (hyps.length === 0) throw nothingToScore(flags.hyp);
  } else {
    if (flags.src === undefined) throw new EvalInputError('--model needs --src, the sentences to translate');
    const src = await readLines(flags.src);
    if (src.length === 0) throw nothingToScore(flags.src);
    await startBackend();
    const translator = await Translator.load(flags.model!);
    const t0 = performance.now();
    hyps = translator
      .translate(src, { batchSize: flags.batchSize, beamSize: flags.beam, lengthPenalty: flags.lengthPenalty })
      .map((r) => r.text);
    const seconds = (performance.now() - t0) / 1000;
    translator.dispose();
    const search = flags.beam === 1 ? 'greedy' : `beam ${flags.beam}, α ${flags.lengthPenalty}`;
    what = `${flags.model} on ${flags.src} (${search}, ${(src.length / seconds).toFixed(1)} sentences/s)`;
    const out = flags.out;
    if (out !== undefined)
      await withFileSystemErrors(out, 'cannot write the hypotheses', () =>
        writeFile(out, hyps.map((h) => `${h}\n`).join('')),
      );
  }
  refs.forEach((r, k) => {
    if (r.length !== hyps.length)
      throw new EvalInputError(
        `${flags.ref[k]}: ${r.length} line${r.length === 1 ? '' : 's'}, but there ` +
          (hyps.length === 1 ? 'is 1 hypothesis' : `are ${hyps.length} hypotheses`),
      );
  });
  const bleu = corpusBleu(hyps, refs, { lowercase: flags.lowercase ?? false });
  const chrf = corpusChrF(hyps, refs);
  const exact = hyps.filter((h, i) => refs.some((r) => r[i] === h)).length / Math.max(hyps.length, 1);
  return [
    `scored: ${what}, ${hyps.length} sentences, ${refs.length} reference${refs.length > 1 ? 's' : ''}`,
    formatBleu(bleu),
    `${chrf.name} = ${chrf.score.toFixed(2)}`,
    `exact match = ${(100 * exact).toFixed(2)}%`,
    '',
  ].join('\n');
}

export function registerEvalCommand(program: Command, startBackend: () => Promise<void>): void {
  program
    .command('eval')
    .description(
      'BLEU (sacreBLEU-compatible: 13a, cased), chrF and exact match of a model on a test set, or of a hypothesis file',
    )
    .option('--model <dir>', 'model to translate --src with')
    .option('--src <file>', 'source sentences, one per line')
    .option('--hyp <file>', 'score this hypothesis file instead of translating (no model needed)')
    .requiredOption('--ref <file...>', 'reference translations, one per line (several files: several references)')
    .option('--beam <k>', 'beam size, with length penalty (1 = greedy)', int('--beam', 1, MAX_BEAM_SIZE), 5)
    .option('--length-penalty <alpha>', 'GNMT length penalty α for beam search', num('--length-penalty'), 0.6)
    .option('--batch-size <n>', 'sentences per batch', int('--batch-size'), 64)
    .option('--lowercase', 'case-insensitive BLEU')
    .option('--out <file>', 'also write the hypotheses here')
    .action(async (opts: EvalFlags) => {
      process.stdout.write(await evaluateFiles(opts, startBackend));
    });
}
