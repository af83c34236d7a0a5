// `translate subwords train`: a joint SentencePiece model from both sides of a parallel corpus (or plain text
// files), the same model `translate train --subwords N` trains for itself, written to a .model file for
// `--tokenizer sp:FILE` (a model directory then keeps its own copy).
import { Command, Option } from 'commander';
import { int } from './flags.js';
import { readLines } from '../data/readers.js';
import { trainSubwords, corpusText, SUBWORD_TYPES, type SubwordType } from '../data/text/subwords.js';
import { ToolkitError } from '../errors.js';

interface SubwordFlags {
  corpus?: string;
  text?: string[];
  size: number;
  type: SubwordType;
  seed: number;
  out: string;
  lowercase?: boolean;
}

export function registerSubwordCommands(program: Command): void {
  const subwords = program.command('subwords').description('subword (SentencePiece) models');
  subwords
    .command('train')
    .description('train a joint SentencePiece model (byte fallback: no input is unknown) with spm_train')
    .option(
      '--corpus <spec>',
      'parallel corpus, both sides: tsv:FILE | aligned:SRC,TGT | jsonl:FILE | a path (dir/train.{de,en}.gz)',
    )
    .option('--text <file...>', 'plain text files, one sentence a line (instead of, or besides, --corpus)')
    .option('--size <n>', 'number of pieces', int('--size'), 8000)
    .addOption(new Option('--type <type>', 'SentencePiece algorithm').choices([...SUBWORD_TYPES]).default('unigram'))
    .option('--seed <n>', "spm_train's random seed", int('--seed', 0), 1)
    .option('--lowercase', 'lowercase the text first')
    .requiredOption('--out <prefix>', 'writes PREFIX.model and PREFIX.vocab')
    .action(async (f: SubwordFlags) => {
      const lines: string[] = [];
      if (f.corpus === undefined && (f.text === undefined || f.text.length === 0))
        throw new SubwordUsageError('give --corpus or --text');
      if (f.corpus !== undefined) {
        lines.push(...(await corpusText(f.corpus, { normalize: { lowercase: f.lowercase === true } })));
      }
      for (const file of f.text ?? []) {
        for await (const l of readLines(file, { overLong: 'skip' }))
          if (!l.overLong) lines.push(f.lowercase ? l.text.toLowerCase() : l.text);
      }
      if (lines.every((l) => l.trim() === ''))
        throw new SubwordUsageError(
          `${[...(f.corpus === undefined ? [] : [f.corpus]), ...(f.text ?? [])].join(', ')}: no text to learn subwords from (every line is empty)`,
        );
      const sp = await trainSubwords(lines, { size: f.size, type: f.type, seed: f.seed }, f.out);
      process.stdout.write(`${f.out}.model: ${sp.pieces.length} pieces (${f.type}) from ${lines.length} lines\n`);
    });
}

class SubwordUsageError extends ToolkitError {
  override name = 'SubwordUsageError';
}
