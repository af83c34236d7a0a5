// Tokenizers behind one interface: text → tokens → text. Each one's config round-trips through JSON so the
// tokenizer is saved beside the model and rebuilt with it.
//
//   word           words and punctuation (natural's RegexpTokenizer with a Unicode pattern, see WordTokenizer)
//   char           one token per code point, spaces kept as the visible "▁" so detokenizing is exact
//   space          text already tokenized with spaces (e.g. opennmt-morph's "s v u g d j e")
//   sentencepiece  subword pieces from a trained SentencePiece .model, through sentencepiece-js (WebAssembly)
import path from 'node:path';
// The tokenizers entry, not 'natural' itself: the package root also loads storage back-ends that print on import.
import naturalTokenizers from 'natural/lib/natural/tokenizers/index.js';
import {
  TokenizerError,
  SPACE_SYMBOL,
  type Tokenizer,
  type TokenizerConfig,
  type WordTokenizerConfig,
  type CharTokenizerConfig,
  type SpaceTokenizerConfig,
} from './tokenizer.js';
import { SentencePieceTokenizer, type SentencePieceJs } from './sentencePieceTokenizer.js';

/** Where a saved tokenizer's files are. */
export interface CreateTokenizerOptions {
  /** The model directory: model files resolve inside it and nowhere else. */
  directory?: string;
  /**
   * The model directory's files by name, already read (a web page fetches them): used instead of `directory`. A
   * file the tokenizer names that is not here is an error.
   */
  files?: ReadonlyMap<string, Uint8Array>;
  /** The sentencepiece-js module, where it cannot be required from node_modules (a browser bundle passes its own). */
  sentencePieceJs?: SentencePieceJs;
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

const CLITICS =
  "(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu|presqu|dell|nell|dall|sull|all|coll|un|quest|quell)['’](?=\\p{L})";
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
// Factory and JSON round trip.

/**
 * Builds a tokenizer from its config (asynchronous because SentencePiece models load asynchronously). With
 * `options.directory` (a saved model's directory) the config's model file must be a plain file name inside it:
 * a path that leaves the directory is refused, so a model directory never reads files elsewhere.
 */
export async function createTokenizer(
  config: TokenizerConfig,
  options: CreateTokenizerOptions = {},
): Promise<Tokenizer> {
  switch (config.kind) {
    case 'word':
      return new WordTokenizer(config);
    case 'char':
      return new CharTokenizer();
    case 'space':
      return new SpaceTokenizer();
    case 'sentencepiece': {
      const { directory, files } = options;
      if (directory === undefined && files === undefined)
        return SentencePieceTokenizer.load(config.model, config.sha256);
      const name = config.model;
      // Not path.basename: it is a stand-in in browser bundles. A file name holds no separator of any platform.
      if (/[/\\]/.test(name) || name === '.' || name === '..' || name.length === 0) {
        throw new TokenizerError(
          `the SentencePiece model ${JSON.stringify(name)} is outside the model directory ${directory ?? ''}: ` +
            'copy the file into it and write its file name as "model" in model.json',
        );
      }
      if (files !== undefined) {
        const bytes = files.get(name);
        if (bytes === undefined) throw new TokenizerError(`the SentencePiece model ${name} was not given`);
        const checked = config.sha256 === undefined ? {} : { sha256: config.sha256 };
        return SentencePieceTokenizer.fromBytes(bytes, name, {
          ...checked,
          ...(options.sentencePieceJs === undefined ? {} : { module: options.sentencePieceJs }),
        });
      }
      return SentencePieceTokenizer.load(path.join(directory!, name), config.sha256);
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
      if (j.splitElisions !== undefined && typeof j.splitElisions !== 'boolean')
        throw new TokenizerError(`${source}: splitElisions must be true or false`);
      if (j.language !== undefined && typeof j.language !== 'string')
        throw new TokenizerError(`${source}: language must be a string`);
      const config: WordTokenizerConfig = { kind: 'word' };
      if (j.splitElisions !== undefined) config.splitElisions = j.splitElisions;
      if (j.language !== undefined) config.language = j.language;
      return config;
    }
    case 'char':
    case 'space':
      return { kind: j.kind };
    case 'sentencepiece':
      if (typeof j.model !== 'string')
        throw new TokenizerError(`${source}: a sentencepiece tokenizer needs "model": path of the .model file`);
      if (j.sha256 !== undefined && (typeof j.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(j.sha256)))
        throw new TokenizerError(`${source}: sha256 must be 64 hex digits`);
      return j.sha256 === undefined
        ? { kind: 'sentencepiece', model: j.model }
        : { kind: 'sentencepiece', model: j.model, sha256: j.sha256 };
    default:
      throw new TokenizerError(
        `${source}: unknown tokenizer kind ${JSON.stringify(j.kind)} (expected word, char, space or sentencepiece)`,
      );
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
  throw new TokenizerError(
    `unknown tokenizer "${spec}" (expected word, word:<lang>, char, space or sentencepiece:<file.model>)`,
  );
}
