// `translate data stats --corpus …`: pair counts, length histograms, bucket occupancy, padding share, UNK rate
// and dropped pairs with reasons, for a parallel corpus as the training pipeline would see it.
import type { Command } from 'commander';
import { int } from './flags.js';
import { loadParallelCorpus } from '../data/text/corpus.js';
import { createTokenizer, parseTokenizerSpec } from '../data/text/tokenizers.js';
import { autoBuckets, parseBuckets, DEFAULT_BUCKETS, type Bucket } from '../data/text/buckets.js';
import { corpusStats, formatStats } from '../data/text/stats.js';
import { Vocabulary } from '../data/text/vocabulary.js';
import { DropTally } from '../data/readers.js';

export interface DataStatsFlags {
  corpus: string;
  tokenizer: string;
  targetTokenizer?: string;
  lowercase?: boolean;
  buckets: string;
  bucketCount: number;
  maxVocab?: number;
  minCount: number;
  maxChars?: number;
}

export async function dataStats(flags: DataStatsFlags): Promise<string> {
  const sourceTokenizer = await createTokenizer(parseTokenizerSpec(flags.tokenizer));
  const targetTokenizer = flags.targetTokenizer
    ? await createTokenizer(parseTokenizerSpec(flags.targetTokenizer))
    : sourceTokenizer;
  const dropped = new DropTally();
  const corpus = await loadParallelCorpus(flags.corpus, {
    sourceTokenizer,
    targetTokenizer,
    normalize: { lowercase: flags.lowercase ?? false },
    dropped,
    ...(flags.maxChars !== undefined ? { maxChars: flags.maxChars } : {}),
  });
  const lengths = corpus.pairs.map((p) => ({ source: p.source.length, target: p.target.length }));
  const buckets: readonly Bucket[] =
    flags.buckets === 'auto'
      ? autoBuckets(lengths, { count: flags.bucketCount })
      : flags.buckets === 'default'
        ? DEFAULT_BUCKETS
        : parseBuckets(flags.buckets);
  const vocabOptions = {
    minCount: flags.minCount,
    ...(flags.maxVocab !== undefined ? { maxSize: flags.maxVocab } : {}),
  };
  const sourceVocab = Vocabulary.build(
    corpus.pairs.map((p) => p.source),
    vocabOptions,
  );
  const targetVocab = Vocabulary.build(
    corpus.pairs.map((p) => p.target),
    vocabOptions,
  );
  const stats = corpusStats({ pairs: corpus.pairs, buckets, dropped, sourceVocab, targetVocab });
  return formatStats(
    stats,
    `corpus ${flags.corpus} (${flags.buckets === 'auto' ? 'automatic' : flags.buckets} buckets)`,
  );
}

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('inspect corpora as the training pipeline sees them');
  data
    .command('stats')
    .description(
      'pair counts, length histograms, bucket occupancy, padding share, UNK rate, dropped pairs with reasons',
    )
    .requiredOption(
      '--corpus <spec>',
      'tsv:FILE[#src,tgt] | aligned:SRC,TGT | jsonl:FILE | a path (.tsv, .jsonl, dir/train.{de,en}.gz); gzip is detected',
    )
    .option('--tokenizer <spec>', 'word | word:fr | char | space | sp:FILE.model', 'word')
    .option('--target-tokenizer <spec>', 'target side tokenizer (default: as --tokenizer)')
    .option('--lowercase', 'lowercase both sides')
    .option('--buckets <spec>', "'auto', 'default' ((5,10),(10,15),(20,25),(40,50)) or e.g. '5,10;10,15'", 'auto')
    .option('--bucket-count <n>', 'number of automatic buckets', int('--bucket-count'), 4)
    .option('--max-vocab <n>', 'vocabulary size limit, specials included', int('--max-vocab', 5))
    .option('--min-count <n>', 'drop tokens seen fewer times', int('--min-count'), 1)
    .option('--max-chars <n>', 'drop pairs with a side longer than this many characters', int('--max-chars'))
    .action(async (opts: DataStatsFlags) => {
      process.stdout.write(`${await dataStats(opts)}\n`);
    });
}
