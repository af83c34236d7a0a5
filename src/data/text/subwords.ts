// Subword vocabularies learnt from the training text itself: one joint SentencePiece model (Kudo & Richardson
// 2018; unigram language model or BPE) over both sides of a parallel corpus, trained with Debian's spm_train.
// With byte fallback every character gets through as UTF-8 byte pieces, so no input is ever "unknown" to the
// model (Sennrich et al. 2016 made the same argument for BPE: open vocabulary through subword units).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TokenizerError, type Tokenizer } from './tokenizer.js';
import { SentencePieceTokenizer, trainSentencePiece } from './sentencePieceTokenizer.js';
import { loadParallelCorpus, type LoadOptions } from './corpus.js';

export type SubwordType = 'unigram' | 'bpe';
export const SUBWORD_TYPES: readonly SubwordType[] = ['unigram', 'bpe'];

export interface SubwordOptions {
  /** Number of pieces (default 8000). */
  size?: number;
  /** 'unigram' (default) or 'bpe'. */
  type?: SubwordType;
  /** spm_train's random seed (default 1), for the same model from the same text. */
  seed?: number;
  /** Sentences spm_train samples at most (default 2,000,000; larger corpora are subsampled). */
  maxSentences?: number;
  /** The spm_train executable (default 'spm_train' on PATH). */
  spmTrain?: string;
}

/**
 * Trains a SentencePiece model on `lines` (both sides of the corpus) and returns it loaded. The .model file goes to
 * `modelPrefix`.model when given, else to a temporary folder that is removed (the tokenizer keeps the bytes, and a
 * saved translation model copies them into its own directory).
 */
export async function trainSubwords(
  lines: Iterable<string>,
  options: SubwordOptions = {},
  modelPrefix?: string,
): Promise<SentencePieceTokenizer> {
  const work = await mkdtemp(path.join(tmpdir(), 'seq2seq-subwords-'));
  try {
    const input = path.join(work, 'input.txt');
    let text = '';
    for (const line of lines) {
      // spm_train reads one sentence a line: line breaks inside a segment would split it.
      const clean = line.replace(/[\r\n]+/g, ' ').trim();
      if (clean.length > 0) text += `${clean}\n`;
    }
    // spm_train aborts on no input ("[!sentences_.empty()]"); the caller names the files.
    if (text === '') throw new TokenizerError('no text to learn subwords from: every line is empty');
    await writeFile(input, text);
    const prefix = modelPrefix ?? path.join(work, 'subwords');
    const { model } = await trainSentencePiece({
      input,
      modelPrefix: prefix,
      vocabSize: options.size ?? 8000,
      modelType: options.type ?? 'unigram',
      characterCoverage: 1.0,
      ...(options.spmTrain !== undefined ? { spmTrain: options.spmTrain } : {}),
      extraArgs: [
        '--byte_fallback=true',
        // A small corpus may not hold `size` distinct pieces: take what it has rather than fail.
        '--hard_vocab_limit=false',
        `--input_sentence_size=${options.maxSentences ?? 2_000_000}`,
        '--shuffle_input_sentence=true',
        `--random_seed=${options.seed ?? 1}`,
        '--num_threads=2',
        '--minloglevel=2',
      ],
    });
    return await SentencePieceTokenizer.load(model);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Keeps a whole line as one token: the raw text a SentencePiece model learns from. */
const WHOLE_LINE: Tokenizer = {
  tokenize: (text) => [text],
  detokenize: (tokens) => tokens.join(' '),
  toJSON: () => ({ kind: 'space' }),
};

/**
 * Both sides of a parallel corpus as plain lines (source, target, source, …), read as training reads it
 * (normalisation, length limits, `limit`), for trainSubwords.
 */
export async function corpusText(
  spec: string,
  options: Omit<LoadOptions, 'sourceTokenizer' | 'targetTokenizer'> = {},
): Promise<string[]> {
  const corpus = await loadParallelCorpus(spec, {
    ...options,
    sourceTokenizer: WHOLE_LINE,
    targetTokenizer: WHOLE_LINE,
  });
  return corpus.pairs.flatMap((p) => [p.source[0] ?? '', p.target[0] ?? '']);
}
