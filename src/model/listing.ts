// A model as the browser page lists it: what `translate web` and `translate serve` both put in /models.json, so that
// the page (web/index.html) builds its model menu the same way from either.

/** A served model, as the page is told about it (the directory stays on the server). */
export interface ListedModel {
  name: string;
  /** The model directory on this machine (not sent to the page). */
  dir: string;
  /** What the model does: translate, or one of the heads (the page shows each its own form). */
  kind: 'seq2seq' | 'classifier' | 'lm' | 'forecaster';
  /** Source and target language codes, when the training corpus named them. */
  languages: { source: string; target: string } | null;
  weights: number;
  /** A line to fill the text box with (e.g. the number-words example), or null. */
  example: string | null;
}

/** The text of /models.json: each model without its directory, and with the URL of its files (models/NAME/). */
export function modelListJson(models: readonly ListedModel[]): string {
  return JSON.stringify(
    models.map(({ name, kind, languages, weights, example }) => ({
      name,
      kind,
      url: `models/${encodeURIComponent(name)}/`,
      languages,
      weights,
      example,
    })),
  );
}
