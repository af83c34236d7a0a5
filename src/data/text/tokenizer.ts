// The interface every tokenizer implements (text → tokens → text), the configs that rebuild each kind from JSON,
// the error they throw, and the visible space symbol the char and SentencePiece tokenizers share.
import { ToolkitError } from '../../errors.js';

export interface Tokenizer {
  tokenize(text: string): string[];
  detokenize(tokens: readonly string[]): string;
  toJSON(): TokenizerConfig;
}

export type TokenizerConfig =
  WordTokenizerConfig | CharTokenizerConfig | SpaceTokenizerConfig | SentencePieceTokenizerConfig;

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

/**
 * Throws a TypeError unless `texts` is an array of strings: a JavaScript caller's number or null among the texts
 * would otherwise fail deep inside a tokenizer, or be read as some other text.
 */
export function checkTexts(texts: readonly string[]): void {
  if (!Array.isArray(texts)) throw new TypeError(`expected an array of strings, got ${typeof texts}`);
  const bad = texts.findIndex((t) => typeof t !== 'string');
  if (bad >= 0) {
    const got: unknown = texts[bad];
    throw new TypeError(`texts[${bad}]: expected a string, got ${got === null ? 'null' : typeof got}`);
  }
}

export class TokenizerError extends ToolkitError {
  override name = 'TokenizerError';
}

/** Stands for a space among character tokens, so spaces stay visible in vocabularies and outputs. */
export const SPACE_SYMBOL = '▁';
