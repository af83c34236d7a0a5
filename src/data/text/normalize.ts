// Text normalisation applied to both sides before tokenizing, so that the same word always has the same spelling:
// "é" typed as one code point or as "e" + combining accent becomes one form (NFC), and with NFKC compatibility
// characters fold too ("ﬁ" → "fi", full-width digits → ASCII, non-breaking space → space).

export interface NormalizeOptions {
  /** Unicode normal form: 'NFC' (default), 'NFKC', or 'none'. */
  form?: 'NFC' | 'NFKC' | 'none';
  /** Lowercase after normalising (default false). */
  lowercase?: boolean;
  /** Locale for lowercasing, e.g. 'tr' so that "I" → "ı" (default: locale-independent). */
  locale?: string;
  /** Turn runs of whitespace (tabs, non-breaking spaces …) into one space and trim the ends (default true). */
  collapseWhitespace?: boolean;
}

export function normalize(text: string, options: NormalizeOptions = {}): string {
  return makeNormalizer(options)(text);
}

/** A normaliser with the options resolved once, for use over a whole corpus. */
export function makeNormalizer(options: NormalizeOptions = {}): (text: string) => string {
  const form = options.form ?? 'NFC';
  const lowercase = options.lowercase ?? false;
  const collapse = options.collapseWhitespace ?? true;
  const locale = options.locale;
  return (text) => {
    let t = form === 'none' ? text : text.normalize(form);
    if (lowercase) t = locale === undefined ? t.toLowerCase() : t.toLocaleLowerCase(locale);
    if (collapse) t = t.replace(/\s+/gu, ' ').trim();
    return t;
  };
}
