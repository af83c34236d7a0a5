// Whitespace exactly as Python's str.split() and str.rstrip() see it, because sacreBLEU splits words,
// trims lines and strips spaces for chrF with those. JavaScript's \s differs: it misses U+001C–U+001F
// and U+0085 (NEL) and adds U+FEFF, so a line with a stray NEL would tokenise differently.

const PY_WHITESPACE =
  '\\t\\n\\v\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const RUNS = new RegExp(`[${PY_WHITESPACE}]+`, 'g');
const TRAILING = new RegExp(`[${PY_WHITESPACE}]+$`);

/** Python's `text.split()`: words between whitespace runs, no empty strings. */
export function splitWhitespace(text: string): string[] {
  return text.split(RUNS).filter((w) => w.length > 0);
}

/** Python's `text.rstrip()`. */
export function trimEndWhitespace(text: string): string {
  return text.replace(TRAILING, '');
}

/** Python's `''.join(text.split())`: every whitespace character removed. */
export function removeWhitespace(text: string): string {
  return text.replace(RUNS, '');
}
