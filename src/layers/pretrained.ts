// Pretrained word vectors in GloVe's text format (one `word v1 … vd` line per word; gzip-compressed files are
// detected by their magic bytes), and loading them into a model's embedding table for a vocabulary. Rows of words
// without a vector keep their random initialisation. A fastText-style first line `count dim` is skipped.
import { createReadStream, promises as fs } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import * as tf from '@tensorflow/tfjs-core';
import { ToolkitError } from '../errors.js';
import { SPECIAL_TOKENS, type Vocabulary } from '../data/text/vocabulary.js';

export class PretrainedError extends ToolkitError {
  override name = 'PretrainedError';
}

export interface PretrainedVectors {
  /** The file read (named in errors). */
  file: string;
  /** Vector width d. */
  dimension: number;
  /** word → its d numbers (the first occurrence when a word repeats). */
  vectors: Map<string, Float32Array>;
}

export interface ReadPretrainedOptions {
  /** Keep only vectors of these words (and of their lowercase forms, for the fallback): saves memory on large files. */
  words?: Iterable<string>;
}

/** Parses one line; returns null for a blank line. Throws naming file and line on a malformed one. */
function parseLine(
  line: string,
  where: string,
  dimension: number | null,
): { word: string; vector: Float32Array } | null {
  const fields = line.trim().split(/\s+/);
  if (fields.length === 1 && fields[0] === '') return null;
  if (fields.length < 2)
    throw new PretrainedError(
      `${where}: expected a word followed by numbers, found ${JSON.stringify(line.slice(0, 60))}`,
    );
  const d = fields.length - 1;
  if (dimension !== null && d !== dimension)
    throw new PretrainedError(
      `${where}: ${d} numbers after "${fields[0]}", expected ${dimension} (the width of the first vector)`,
    );
  const vector = new Float32Array(d);
  for (let i = 0; i < d; i++) {
    const text = fields[i + 1]!;
    const x = Number(text);
    if (!Number.isFinite(x) || text === '')
      throw new PretrainedError(`${where}: "${text}" (number ${i + 1} of "${fields[0]}") is not a number`);
    vector[i] = x;
  }
  return { word: fields[0]!, vector };
}

/** Reads GloVe text (plain or .gz) line by line. Errors name the file and the 1-based line. */
export async function readPretrainedVectors(
  file: string,
  options: ReadPretrainedOptions = {},
): Promise<PretrainedVectors> {
  let keep: Set<string> | null = null;
  if (options.words !== undefined) {
    keep = new Set<string>();
    for (const w of options.words) {
      keep.add(w);
      keep.add(w.toLowerCase());
    }
  }
  let head: Buffer;
  try {
    const handle = await fs.open(file, 'r');
    try {
      head = Buffer.alloc(2);
      await handle.read(head, 0, 2, 0);
    } finally {
      await handle.close();
    }
  } catch (e) {
    throw new PretrainedError(`${file}: cannot read (${(e as Error).message})`);
  }
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  const raw = createReadStream(file);
  const input = gzip ? raw.pipe(createGunzip()) : raw;
  const lines = createInterface({ input, crlfDelay: Infinity });
  const vectors = new Map<string, Float32Array>();
  let dimension: number | null = null;
  let n = 0;
  try {
    for await (const line of lines) {
      n++;
      // fastText's .vec files start with "count dim".
      if (n === 1 && /^\s*\d+\s+\d+\s*$/.test(line)) continue;
      const parsed = parseLine(line, `${file}:${n}`, dimension);
      if (parsed === null) continue;
      dimension ??= parsed.vector.length;
      if ((keep === null || keep.has(parsed.word)) && !vectors.has(parsed.word))
        vectors.set(parsed.word, parsed.vector);
    }
  } catch (e) {
    if (e instanceof PretrainedError) throw e;
    throw new PretrainedError(`${file}: cannot read${n > 0 ? ` after line ${n}` : ''} (${(e as Error).message})`);
  } finally {
    lines.close();
    raw.destroy();
  }
  if (dimension === null) throw new PretrainedError(`${file}: no vectors in the file`);
  return { file, dimension, vectors };
}

/** How many vocabulary words got a pretrained vector. */
export interface PretrainedCoverage {
  /** Vocabulary words considered (the reserved <pad> <go> <eos> <unk> excluded). */
  words: number;
  /** Found as written. */
  exact: number;
  /** Not found as written, found lowercased. */
  lowercase: number;
  /** exact + lowercase. */
  found: number;
}

/** Anything with embedding tables, such as Seq2Seq. */
export interface HasEmbeddings {
  embedding(side: 'source' | 'target'): tf.Variable;
}

/**
 * Overwrites the rows of `side`'s embedding table for the vocabulary's words that have a vector (trying the word
 * as written, then lowercased); other rows keep their values. The table's width must equal the vectors' width.
 */
export function loadPretrainedEmbeddings(
  model: HasEmbeddings,
  side: 'source' | 'target',
  vocabulary: Vocabulary,
  vectors: PretrainedVectors,
): PretrainedCoverage {
  const table = model.embedding(side);
  const [rows, width] = table.shape as [number, number];
  if (width !== vectors.dimension) {
    throw new PretrainedError(
      `${vectors.file}: vectors are ${vectors.dimension} wide, the model's ${side} embeddings ${width} (set embeddingSize to ${vectors.dimension})`,
    );
  }
  if (rows !== vocabulary.size)
    throw new PretrainedError(
      `the ${side} vocabulary has ${vocabulary.size} tokens, the model's ${side} embedding table ${rows} rows`,
    );
  const values = table.dataSync().slice() as Float32Array;
  const coverage: PretrainedCoverage = { words: 0, exact: 0, lowercase: 0, found: 0 };
  vocabulary.tokens.forEach((word, id) => {
    if (id < SPECIAL_TOKENS.length) return;
    coverage.words++;
    let v = vectors.vectors.get(word);
    if (v !== undefined) coverage.exact++;
    else if ((v = vectors.vectors.get(word.toLowerCase())) !== undefined) coverage.lowercase++;
    if (v !== undefined) values.set(v, id * width);
  });
  coverage.found = coverage.exact + coverage.lowercase;
  tf.tidy(() => table.assign(tf.tensor2d(values, [rows, width])));
  return coverage;
}
