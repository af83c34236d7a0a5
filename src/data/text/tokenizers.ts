// Tokenizers behind one interface: text → tokens → text. Each one's config round-trips through JSON so the
// tokenizer is saved beside the model and rebuilt with it.
//
//   word           words and punctuation (natural's RegexpTokenizer with a Unicode pattern, see WordTokenizer)
//   char           one token per code point, spaces kept as the visible "▁" so detokenizing is exact
//   space          text already tokenized with spaces (e.g. opennmt-morph's "s v u g d j e")
//   sentencepiece  subword pieces from a trained SentencePiece .model, through sentencepiece-js (WebAssembly)
import { access, constants, readFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
// The tokenizers entry, not 'natural' itself: the package root also loads storage back-ends that print on import.
import naturalTokenizers from 'natural/lib/natural/tokenizers/index.js';
import { ToolkitError } from '../../errors.js';
import { readSentencePiecePieces, produciblePieces } from './sentencePieceModel.js';

export interface Tokenizer {
  tokenize(text: string): string[];
  detokenize(tokens: readonly string[]): string;
  toJSON(): TokenizerConfig;
}

export type TokenizerConfig = WordTokenizerConfig | CharTokenizerConfig | SpaceTokenizerConfig | SentencePieceTokenizerConfig;

export interface WordTokenizerConfig {
  kind: 'word';
  /** Split French/Italian elided articles and pronouns off the next word: "l'homme" → "l'" "homme" (default true). */
  splitElisions?: boolean;
  /** 'fr' detokenizes with French spacing ("Va !", « oui »); anything else with English spacing (default 'en'). */
  language?: string;
}

export interface CharTokenizerConfig {
  kind: 'char';
}

export interface SpaceTokenizerConfig {
  kind: 'space';
}

export interface SentencePieceTokenizerConfig {
  kind: 'sentencepiece';
  /**
   * The SentencePiece .model file: a path as given (command line, library), or, in a saved model's JSON, a plain
   * file name inside the model directory (the model's bytes are copied there, so the directory is self-contained).
   */
  model: string;
  /** SHA-256 of the .model file (saved models): checked when it loads. */
  sha256?: string;
}

/** Where a saved tokenizer's files are: with `directory`, model files resolve inside it and nowhere else. */
export interface CreateTokenizerOptions {
  directory?: string;
}

/** A SentencePiece model larger than this is refused before it is read (8,000 pieces take ~0.4 MB). */
export const MAX_SENTENCEPIECE_MODEL_BYTES = 64 << 20;

export class TokenizerError extends ToolkitError {
  override name = 'TokenizerError';
}

// ---------------------------------------------------------------------------------------------------------------
// Word level.
//
// natural's ready-made word tokenizers each fail European text somewhere: WordTokenizer and AggressiveTokenizer
// drop punctuation and split "génial" at the accent (ASCII classes), WordPunctTokenizer keeps Latin-1 accents but
// splits "cœur" at the œ and "aujourd'hui" at the apostrophe, Treebank splits every accented letter off. So we use
// natural's RegexpTokenizer with a Unicode pattern (\p{L}: any letter), matching in this order:
//   elided clitic   l' d' qu' jusqu' dell' …, only before a letter ("l'homme" → "l'" "homme")
//   number          3.5, 10,000, 8:30
//   word            letters/marks/digits, inner apostrophes and hyphens kept: aujourd'hui, don't, peut-être, Größe
//   ellipsis        ... as one token
//   anything else   one non-space symbol per token: . , ! ? « » ( ) …

const CLITICS = "(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu|presqu|dell|nell|dall|sull|all|coll|un|quest|quell)['’](?=\\p{L})";
const NUMBER = '\\p{N}+(?:[.,:]\\p{N}+)+';
const WORD = "[\\p{L}\\p{M}\\p{N}]+(?:['’\\-][\\p{L}\\p{M}\\p{N}]+)*";
const ELLIPSIS = '\\.{2,}';
const SYMBOL = '\\S';

const NO_SPACE_BEFORE = new Set(['.', ',', ';', ':', '!', '?', '%', ')', ']', '}', '»', '”', '’', '…', '...']);
const NO_SPACE_AFTER = new Set(['(', '[', '{', '«', '“', '‘', '¿', '¡']);
// French typography puts a (thin) space before the two-part punctuation marks and inside guillemets.
const FRENCH_SPACED = new Set([';', ':', '!', '?', '»']);

export class WordTokenizer implements Tokenizer {
  private readonly natural: { tokenize(text: string): string[] | null };
  private readonly splitElisions: boolean;
  private readonly language: string;

  constructor(config: Omit<WordTokenizerConfig, 'kind'> = {}) {
    this.splitElisions = config.splitElisions ?? true;
    this.language = config.language ?? 'en';
    const parts = [...(this.splitElisions ? [CLITICS] : []), NUMBER, WORD, ELLIPSIS, SYMBOL];
    const pattern = new RegExp(parts.join('|'), 'giu');
    this.natural = new naturalTokenizers.RegexpTokenizer({ pattern, gaps: false });
  }

  tokenize(text: string): string[] {
    // natural's match-mode returns null when nothing matches (empty or all-space text).
    return this.natural.tokenize(text) ?? [];
  }

  detokenize(tokens: readonly string[]): string {
    const french = this.language === 'fr';
    let out = '';
    let glueNext = true; // no space before the first token
    let openDoubleQuote = false;
    for (const tok of tokens) {
      let spaceBefore = !glueNext;
      let glueAfter = false;
      if (tok === '"') {
        // Straight quotes alternate: the first opens (glued to what follows), the next closes (glued to what precedes).
        if (openDoubleQuote) spaceBefore = false;
        else glueAfter = true;
        openDoubleQuote = !openDoubleQuote;
      } else if (NO_SPACE_BEFORE.has(tok)) {
        spaceBefore = french && FRENCH_SPACED.has(tok) ? out.length > 0 : false;
      }
      if (NO_SPACE_AFTER.has(tok)) glueAfter = !(french && tok === '«');
      // "$5" in English; French writes "5 $".
      if (!french && (tok === '$' || tok === '£')) glueAfter = true;
      if (this.splitElisions && tok.length > 1 && /['’]$/u.test(tok) && /\p{L}/u.test(tok)) glueAfter = true;
      out += (spaceBefore ? ' ' : '') + tok;
      glueNext = glueAfter;
    }
    return out;
  }

  toJSON(): WordTokenizerConfig {
    return { kind: 'word', splitElisions: this.splitElisions, language: this.language };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Character level.

/** Stands for a space among character tokens, so spaces stay visible in vocabularies and outputs. */
export const SPACE_SYMBOL = '▁';

export class CharTokenizer implements Tokenizer {
  tokenize(text: string): string[] {
    // Array.from splits by code point, so characters outside the BMP (emoji, some CJK) stay whole.
    return Array.from(text, (c) => (c === ' ' ? SPACE_SYMBOL : c));
  }

  detokenize(tokens: readonly string[]): string {
    return tokens.map((t) => (t === SPACE_SYMBOL ? ' ' : t)).join('');
  }

  toJSON(): CharTokenizerConfig {
    return { kind: 'char' };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Pre-tokenized text.

export class SpaceTokenizer implements Tokenizer {
  tokenize(text: string): string[] {
    return text.split(/\s+/u).filter((t) => t.length > 0);
  }

  detokenize(tokens: readonly string[]): string {
    return tokens.join(' ');
  }

  toJSON(): SpaceTokenizerConfig {
    return { kind: 'space' };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// SentencePiece.

/** The part of sentencepiece-js we use (the package ships no type declarations). */
interface SentencePieceProcessorJs {
  load(file: string): Promise<void>;
  encodePieces(text: string): string[];
  encodeIds(text: string): number[];
  decodeIds(ids: number[]): string;
}

let sentencePieceModule: { SentencePieceProcessor: new () => SentencePieceProcessorJs } | undefined;

function sentencePieceJs(): { SentencePieceProcessor: new () => SentencePieceProcessorJs } {
  // A CommonJS package without types: required lazily, so word/char users never load its 750 kB of WebAssembly.
  sentencePieceModule ??= createRequire(import.meta.url)('sentencepiece-js') as typeof sentencePieceModule;
  return sentencePieceModule!;
}

export class SentencePieceTokenizer implements Tokenizer {
  private constructor(
    private readonly processor: SentencePieceProcessorJs,
    /** The path it was loaded from. */
    readonly model: string,
    /** The .model file's bytes, copied into every model directory that saves this tokenizer. */
    readonly bytes: Uint8Array,
    readonly sha256: string,
    /** Every piece the model can produce, in the model's id order. */
    readonly pieces: readonly string[],
  ) {}

  /**
   * Loads a .model file (asynchronous: the WebAssembly module is instantiated per processor). With `sha256`, the
   * file must have that checksum. Only regular files up to MAX_SENTENCEPIECE_MODEL_BYTES are read.
   */
  static async load(model: string, sha256?: string): Promise<SentencePieceTokenizer> {
    const info = await stat(model).catch(() => null);
    if (info === null) throw new TokenizerError(`SentencePiece model ${model} cannot be read`);
    if (!info.isFile()) throw new TokenizerError(`SentencePiece model ${model} is not a regular file`);
    if (info.size > MAX_SENTENCEPIECE_MODEL_BYTES) throw new TokenizerError(`SentencePiece model ${model} is ${info.size} bytes, over the ${MAX_SENTENCEPIECE_MODEL_BYTES}-byte limit`);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(model));
    } catch {
      throw new TokenizerError(`SentencePiece model ${model} cannot be read`);
    }
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== undefined && digest !== sha256) throw new TokenizerError(`${model}: checksum mismatch, the SentencePiece model file is corrupt`);
    let pieces: string[];
    try {
      pieces = produciblePieces(readSentencePiecePieces(bytes, model));
    } catch {
      throw new TokenizerError(`${model} is not a SentencePiece model`);
    }
    const { SentencePieceProcessor } = sentencePieceJs();
    const processor = new SentencePieceProcessor();
    // The Emscripten glue adds process-wide 'uncaughtException'/'unhandledRejection' listeners that rethrow;
    // a library should not change how the host process handles errors, so we take back what it added.
    const before = { u: process.listeners('uncaughtException'), r: process.listeners('unhandledRejection') };
    try {
      await processor.load(model);
    } finally {
      for (const l of process.listeners('uncaughtException')) if (!before.u.includes(l)) process.removeListener('uncaughtException', l);
      for (const l of process.listeners('unhandledRejection')) if (!before.r.includes(l)) process.removeListener('unhandledRejection', l);
    }
    // sentencepiece-js ignores the load status: a file that is not a model "loads" and then encodes everything to [].
    if (processor.encodePieces('a').length === 0) throw new TokenizerError(`${model} is not a SentencePiece model`);
    return new SentencePieceTokenizer(processor, model, bytes, digest, pieces);
  }

  /** The file name this model gets inside a model directory: named by its content, so it never changes. */
  get fileName(): string {
    return `sentencepiece-${this.sha256.slice(0, 16)}.model`;
  }

  tokenize(text: string): string[] {
    return this.processor.encodePieces(text);
  }

  /** Piece ids of the model's own vocabulary (not a Vocabulary's ids). */
  encodeIds(text: string): number[] {
    return this.processor.encodeIds(text);
  }

  detokenize(tokens: readonly string[]): string {
    // SentencePiece marks word starts with "▁"; byte-fallback pieces "<0xE2>" spell raw UTF-8 bytes.
    const bytes: number[] = [];
    let out = '';
    const flush = () => {
      if (bytes.length > 0) out += Buffer.from(bytes).toString('utf8');
      bytes.length = 0;
    };
    for (const p of tokens) {
      const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(p);
      if (m) {
        bytes.push(parseInt(m[1]!, 16));
        continue;
      }
      flush();
      out += p.replaceAll(SPACE_SYMBOL, ' ');
    }
    flush();
    return out.replace(/^ /, '');
  }

  /** The saved form: the model as a file inside the model directory (see `fileName`), with its checksum. */
  toJSON(): SentencePieceTokenizerConfig {
    return { kind: 'sentencepiece', model: this.fileName, sha256: this.sha256 };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Factory and JSON round trip.

/**
 * Builds a tokenizer from its config (asynchronous because SentencePiece models load asynchronously). With
 * `options.directory` (a saved model's directory) the config's model file must be a plain file name inside it:
 * a path that leaves the directory is refused, so a model directory never reads files elsewhere.
 */
export async function createTokenizer(config: TokenizerConfig, options: CreateTokenizerOptions = {}): Promise<Tokenizer> {
  switch (config.kind) {
    case 'word':
      return new WordTokenizer(config);
    case 'char':
      return new CharTokenizer();
    case 'space':
      return new SpaceTokenizer();
    case 'sentencepiece': {
      if (options.directory === undefined) return SentencePieceTokenizer.load(config.model, config.sha256);
      const name = config.model;
      if (name !== path.basename(name) || name === '.' || name === '..' || name.length === 0) {
        throw new TokenizerError(
          `the SentencePiece model ${JSON.stringify(name)} is outside the model directory ${options.directory}: copy the file into it and write its file name as "model" in model.json`,
        );
      }
      return SentencePieceTokenizer.load(path.join(options.directory, name), config.sha256);
    }
  }
}

/** The files a saved model needs for these tokenizers (SentencePiece models), each once. */
export function tokenizerFiles(tokenizers: readonly Tokenizer[]): { name: string; bytes: Uint8Array }[] {
  const files = new Map<string, Uint8Array>();
  for (const t of tokenizers) if (t instanceof SentencePieceTokenizer) files.set(t.fileName, t.bytes);
  return [...files].map(([name, bytes]) => ({ name, bytes }));
}

/** Checks parsed JSON (e.g. from a saved model) and returns it as a TokenizerConfig. */
export function tokenizerConfigFromJSON(json: unknown, source = 'tokenizer config'): TokenizerConfig {
  const j = json as Record<string, unknown> | null;
  if (j === null || typeof j !== 'object') throw new TokenizerError(`${source}: expected an object with a "kind"`);
  switch (j.kind) {
    case 'word': {
      if (j.splitElisions !== undefined && typeof j.splitElisions !== 'boolean') throw new TokenizerError(`${source}: splitElisions must be true or false`);
      if (j.language !== undefined && typeof j.language !== 'string') throw new TokenizerError(`${source}: language must be a string`);
      const config: WordTokenizerConfig = { kind: 'word' };
      if (j.splitElisions !== undefined) config.splitElisions = j.splitElisions as boolean;
      if (j.language !== undefined) config.language = j.language as string;
      return config;
    }
    case 'char':
    case 'space':
      return { kind: j.kind };
    case 'sentencepiece':
      if (typeof j.model !== 'string') throw new TokenizerError(`${source}: a sentencepiece tokenizer needs "model": path of the .model file`);
      if (j.sha256 !== undefined && (typeof j.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(j.sha256))) throw new TokenizerError(`${source}: sha256 must be 64 hex digits`);
      return j.sha256 === undefined ? { kind: 'sentencepiece', model: j.model } : { kind: 'sentencepiece', model: j.model, sha256: j.sha256 as string };
    default:
      throw new TokenizerError(`${source}: unknown tokenizer kind ${JSON.stringify(j.kind)} (expected word, char, space or sentencepiece)`);
  }
}

/** Parses the CLI's short form: "word", "word:fr", "char", "space", "sentencepiece:path/to.model" (or "sp:…"). */
export function parseTokenizerSpec(spec: string): TokenizerConfig {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const arg = colon < 0 ? undefined : spec.slice(colon + 1);
  if (kind === 'word') return arg === undefined ? { kind: 'word' } : { kind: 'word', language: arg };
  if (kind === 'char' || kind === 'space') return { kind };
  if ((kind === 'sentencepiece' || kind === 'sp') && arg) return { kind: 'sentencepiece', model: arg };
  throw new TokenizerError(`unknown tokenizer "${spec}" (expected word, word:<lang>, char, space or sentencepiece:<file.model>)`);
}

// ---------------------------------------------------------------------------------------------------------------
// Training a SentencePiece model with Debian's spm_train.

export interface TrainSentencePieceOptions {
  /** Plain-text training files, one sentence a line (spm_train does not read gzip). */
  input: string | readonly string[];
  /** Output path prefix: writes <prefix>.model and <prefix>.vocab. */
  modelPrefix: string;
  /** Number of pieces (default 8000). */
  vocabSize?: number;
  /** 'unigram' (default), 'bpe', 'char' or 'word'. */
  modelType?: 'unigram' | 'bpe' | 'char' | 'word';
  /** Share of characters the model must cover (default 1.0; 0.9995 suits languages with large alphabets). */
  characterCoverage?: number;
  /** The spm_train executable: a name looked up on PATH or a path (default 'spm_train'). */
  spmTrain?: string;
  /** Further spm_train flags, e.g. ['--input_sentence_size=1000000', '--shuffle_input_sentence=true']. */
  extraArgs?: readonly string[];
}

export const SPM_TRAIN_MISSING =
  'spm_train was not found. It comes with the SentencePiece command-line tools: on Debian or Ubuntu run ' +
  '`apt-get install sentencepiece` (as root, or with sudo); elsewhere build https://github.com/google/sentencepiece ' +
  'and put spm_train on PATH, or pass spmTrain: "/path/to/spm_train".';

/** Trains a SentencePiece model by running spm_train; resolves to the written .model and .vocab paths. */
export async function trainSentencePiece(options: TrainSentencePieceOptions): Promise<{ model: string; vocab: string }> {
  const exe = await findExecutable(options.spmTrain ?? 'spm_train');
  if (exe === null) throw new TokenizerError(SPM_TRAIN_MISSING);
  const inputs = typeof options.input === 'string' ? [options.input] : [...options.input];
  if (inputs.length === 0) throw new TokenizerError('trainSentencePiece needs at least one input file');
  const args = [
    `--input=${inputs.join(',')}`,
    `--model_prefix=${options.modelPrefix}`,
    `--vocab_size=${options.vocabSize ?? 8000}`,
    `--model_type=${options.modelType ?? 'unigram'}`,
    `--character_coverage=${options.characterCoverage ?? 1.0}`,
    ...(options.extraArgs ?? []),
  ];
  await new Promise<void>((resolve, reject) => {
    execFile(exe, args, { maxBuffer: 64 << 20 }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      // spm_train logs to stderr; its last lines say what went wrong (e.g. vocab_size too large for the data).
      const tail = String(stderr).trim().split('\n').slice(-5).join('\n');
      reject(new TokenizerError(`spm_train failed (${error.message.split('\n')[0]}):\n${tail}`));
    });
  });
  return { model: `${options.modelPrefix}.model`, vocab: `${options.modelPrefix}.vocab` };
}

/** Resolves a command name on PATH (or checks a path); null when it is not there or not executable. */
async function findExecutable(name: string): Promise<string | null> {
  const candidates = name.includes(path.sep)
    ? [name]
    : (process.env.PATH ?? '').split(path.delimiter).filter((d) => d.length > 0).map((d) => path.join(d, name));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return c;
    } catch {
      // not here; try the next directory
    }
  }
  return null;
}
