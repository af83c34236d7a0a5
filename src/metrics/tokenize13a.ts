// sacreBLEU's default "13a" tokenisation: the language-independent part of mteval-v13a.pl (the WMT
// scorer), then its Western-language punctuation splitting. Every regex below is sacreBLEU's
// (tokenizers/tokenizer_13a.py and tokenizer_re.py) rewritten in JavaScript syntax; their order matters.

import { splitWhitespace } from './whitespace.js';

/** Splits ASCII symbols off everything: { | } ~  [ \ ] ^ _ `  space ! " # $ % &  ( ) * +  : ; < = > ? @  / */
const SYMBOL = /([{-~[-` -&(-+:-@/])/g;
/** A period or comma not preceded by a digit ("end." but not "3.5"). */
const PERIOD_COMMA_AFTER_NON_DIGIT = /([^0-9])([.,])/g;
/** A period or comma not followed by a digit (",x" but not ",5"). */
const PERIOD_COMMA_BEFORE_NON_DIGIT = /([.,])([^0-9])/g;
/** A dash after a digit ("1990-2000" → "1990 - 2000"); a dash elsewhere stays inside its word. */
const DASH_AFTER_DIGIT = /([0-9])(-)/g;

/** Tokenises one line as sacreBLEU's `Tokenizer13a`; tokens come back joined by single spaces. */
export function tokenize13a(line: string): string {
  // mteval drops <skipped> markers and rejoins words hyphenated across line breaks before anything else.
  let text = line.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  // Only these four entities, in this order: "&amp;lt;" therefore becomes "<", as in mteval.
  if (text.includes('&')) {
    text = text.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  }
  // The padding lets the period/comma rules see a non-digit neighbour at both ends of the line.
  text = ` ${text} `
    .replace(SYMBOL, ' $1 ')
    .replace(PERIOD_COMMA_AFTER_NON_DIGIT, '$1 $2 ')
    .replace(PERIOD_COMMA_BEFORE_NON_DIGIT, ' $1 $2')
    .replace(DASH_AFTER_DIGIT, '$1 $2 ');
  return splitWhitespace(text).join(' ');
}
