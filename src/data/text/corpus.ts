// One entry from a corpus description to tokenized pairs: read (readers.ts) → normalise (normalize.ts) → tokenize
// (tokenizers.ts). The CLI names a corpus with a short string, parsed by parseCorpusSpec:
//
//   tsv:eng-fra.tsv                    columns 0 and 1
//   tsv:dev.tsv#src,trg                columns by header name (the first line is a header)
//   tsv:data.tsv#0,2                   columns by index
//   aligned:train.de,train.en          two files aligned line by line
//   aligned:multi30k/train.{de,en}.gz  the same, with the two names written once
//   jsonl:pairs.jsonl                  {"src": …, "tgt": …} per line
//   eng-fra.tsv, pairs.jsonl.gz, a.de,a.en, train.{de,en}   the format implied by extension or by the comma/braces
import { readAligned, readJsonl, readTsv, DropTally, CorpusError, type Pair, type ReaderOptions } from '../readers.js';
import { makeNormalizer, type NormalizeOptions } from './normalize.js';
import { WordTokenizer } from './tokenizers.js';
import type { Tokenizer } from './tokenizer.js';
import type { Vocabulary } from './vocabulary.js';
import type { EncodedPair } from './buckets.js';
import { ToolkitError } from '../../errors.js';

export type CorpusFormat = 'tsv' | 'aligned' | 'jsonl';

export interface CorpusSpec {
  format: CorpusFormat;
  /** One file for tsv and jsonl; source file then target file for aligned. */
  paths: string[];
  /** tsv: source and target columns, by index or by header name (default [0, 1]). */
  columns?: readonly [number | string, number | string];
  /** tsv: whether the first line is a header (default: true when a column is named). */
  header?: boolean;
  /** jsonl: source and target property names (default ['src', 'tgt']). */
  keys?: readonly [string, string];
}

export class CorpusSpecError extends ToolkitError {
  override name = 'CorpusSpecError';
}

const FORMATS: readonly CorpusFormat[] = ['tsv', 'aligned', 'jsonl'];

/** Parses the CLI's corpus string (see the top of this file). */
export function parseCorpusSpec(text: string): CorpusSpec {
  const m = /^(tsv|aligned|jsonl):(.*)$/.exec(text);
  let format = m ? (m[1] as CorpusFormat) : undefined;
  let rest = m ? m[2]! : text;
  let columns: [string, string] | undefined;
  if (format === 'tsv' || (format === undefined && /\.tsv(\.gz)?#/.test(rest))) {
    const hash = rest.lastIndexOf('#');
    if (hash >= 0) {
      const cols = rest.slice(hash + 1).split(',');
      if (cols.length !== 2 || cols.some((c) => c.length === 0))
        throw new CorpusSpecError(`"${text}": columns after # must be two, e.g. #0,2 or #src,trg`);
      columns = [cols[0]!, cols[1]!];
      rest = rest.slice(0, hash);
    }
  }
  const paths = expandPaths(rest);
  if (format === undefined) {
    if (paths.length === 2) format = 'aligned';
    else if (/\.(tsv|tab)(\.gz)?$/i.test(rest)) format = 'tsv';
    else if (/\.(jsonl|ndjson)(\.gz)?$/i.test(rest)) format = 'jsonl';
    else {
      throw new CorpusSpecError(
        `"${text}": cannot tell the format; write tsv:FILE, aligned:SOURCE,TARGET or jsonl:FILE (known extensions: .tsv, .jsonl, .ndjson, optionally .gz)`,
      );
    }
  }
  const expected = format === 'aligned' ? 2 : 1;
  if (paths.length !== expected || paths.some((p) => p.length === 0)) {
    throw new CorpusSpecError(
      `"${text}": ${format} takes ${expected === 2 ? 'two files (source,target)' : 'one file'}, got ${paths.length}`,
    );
  }
  const spec: CorpusSpec = { format, paths };
  if (columns)
    spec.columns = columns.map((c) => (/^\d+$/.test(c) ? Number(c) : c)) as [number | string, number | string];
  return spec;
}

/** "a.de,a.en" → two paths; "dir/train.{de,en}.gz" → dir/train.de.gz, dir/train.en.gz. */
function expandPaths(text: string): string[] {
  const brace = /^(.*)\{([^{}]*)\}(.*)$/.exec(text);
  if (brace) return brace[2]!.split(',').map((alt) => `${brace[1]}${alt}${brace[3]}`);
  return text.split(',');
}

/** Streams the raw pairs of a corpus (no normalisation or tokenization). */
export function readCorpus(spec: CorpusSpec, options: ReaderOptions = {}): AsyncGenerator<Pair> {
  if (!FORMATS.includes(spec.format)) throw new CorpusSpecError(`unknown corpus format "${String(spec.format)}"`);
  switch (spec.format) {
    case 'tsv':
      return readTsv(spec.paths[0]!, {
        ...options,
        ...(spec.columns ? { columns: spec.columns } : {}),
        ...(spec.header !== undefined ? { header: spec.header } : {}),
      });
    case 'jsonl':
      return readJsonl(spec.paths[0]!, { ...options, ...(spec.keys ? { keys: spec.keys } : {}) });
    case 'aligned':
      if (spec.paths.length !== 2)
        throw new CorpusSpecError(`aligned corpora need two files, got ${spec.paths.length}`);
      return readAligned(spec.paths[0]!, spec.paths[1]!, options);
  }
}

export interface TokenizedPair {
  source: string[];
  target: string[];
}

export interface LoadOptions {
  /** Normalisation of both sides before tokenizing, or false for none (default: NFC, whitespace collapsed). */
  normalize?: NormalizeOptions | false;
  /** Source tokenizer (default: a WordTokenizer). */
  sourceTokenizer?: Tokenizer;
  /** Target tokenizer (default: the source tokenizer). */
  targetTokenizer?: Tokenizer;
  /** Drop pairs with a side longer than this many characters before tokenizing (default: no limit). */
  maxChars?: number;
  /** Drop pairs whose line is longer than this many bytes, without reading it into memory (default DEFAULT_MAX_LINE_BYTES, 1 MiB). */
  maxLineBytes?: number;
  /** Drop pairs with a side longer than this many tokens (default: no limit; buckets drop over-long pairs later anyway). */
  maxTokens?: number;
  /** Stop after this many kept pairs (default: read everything). */
  limit?: number;
  /** Where dropped pairs are counted (default: a new tally, returned in the result). */
  dropped?: DropTally;
}

/** Streams tokenized pairs; pairs that become empty after normalising and tokenizing are dropped as 'empty'. */
export async function* tokenizeCorpus(spec: CorpusSpec, options: LoadOptions = {}): AsyncGenerator<TokenizedPair> {
  const dropped = options.dropped ?? new DropTally();
  const norm = options.normalize === false ? (t: string) => t : makeNormalizer(options.normalize ?? {});
  const srcTok = options.sourceTokenizer ?? new WordTokenizer();
  const tgtTok = options.targetTokenizer ?? srcTok;
  const maxTokens = options.maxTokens ?? Infinity;
  const limit = options.limit ?? Infinity;
  let kept = 0;
  if (kept >= limit) return;
  const readerOptions: ReaderOptions = {
    dropped,
    ...(options.maxChars !== undefined ? { maxChars: options.maxChars } : {}),
    ...(options.maxLineBytes !== undefined ? { maxLineBytes: options.maxLineBytes } : {}),
  };
  for await (const pair of readCorpus(spec, readerOptions)) {
    const source = srcTok.tokenize(norm(pair.source));
    const target = tgtTok.tokenize(norm(pair.target));
    if (source.length === 0 || target.length === 0) {
      dropped.add('empty');
      continue;
    }
    if (source.length > maxTokens || target.length > maxTokens) {
      dropped.add('too-long');
      continue;
    }
    yield { source, target };
    if (++kept >= limit) return;
  }
}

export interface ParallelCorpus {
  spec: CorpusSpec;
  pairs: TokenizedPair[];
  dropped: DropTally;
  /** Pairs read, dropped ones included. */
  read: number;
}

/** Reads a whole corpus into memory as tokenized pairs; `spec` may be the CLI string form. */
export async function loadParallelCorpus(
  spec: CorpusSpec | string,
  options: LoadOptions = {},
): Promise<ParallelCorpus> {
  const s = typeof spec === 'string' ? parseCorpusSpec(spec) : spec;
  const dropped = options.dropped ?? new DropTally();
  const pairs: TokenizedPair[] = [];
  for await (const p of tokenizeCorpus(s, { ...options, dropped })) pairs.push(p);
  return { spec: s, pairs, dropped, read: pairs.length + dropped.total };
}

/**
 * Token counts of both sides, streamed: for corpora too large to hold, build vocabularies with
 * Vocabulary.fromCounts(counts.source, { maxSize, minCount }) without keeping the pairs.
 */
export async function countTokens(
  spec: CorpusSpec | string,
  options: LoadOptions = {},
): Promise<{ source: Map<string, number>; target: Map<string, number>; pairs: number; dropped: DropTally }> {
  const s = typeof spec === 'string' ? parseCorpusSpec(spec) : spec;
  const dropped = options.dropped ?? new DropTally();
  const source = new Map<string, number>();
  const target = new Map<string, number>();
  let pairs = 0;
  for await (const p of tokenizeCorpus(s, { ...options, dropped })) {
    for (const t of p.source) source.set(t, (source.get(t) ?? 0) + 1);
    for (const t of p.target) target.set(t, (target.get(t) ?? 0) + 1);
    pairs++;
  }
  return { source, target, pairs, dropped };
}

/** Token pairs → id pairs with each side's vocabulary (unknown tokens become UNK). */
export function encodePairs(
  pairs: readonly TokenizedPair[],
  sourceVocab: Vocabulary,
  targetVocab: Vocabulary,
): EncodedPair[] {
  return pairs.map((p) => ({ source: sourceVocab.encode(p.source), target: targetVocab.encode(p.target) }));
}

export { CorpusError };
