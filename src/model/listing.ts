// A model as the browser page lists it: what `translate web` and `translate serve` both put in /models.json, so that
// the page (web/index.html) builds its model menu the same way from either; and which of its files the page may read.
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { namedFilesOf } from './modelFiles.js';

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

/**
 * A file of a listed model's directory as the page may read it: model.json, or a file model.json names (weights,
 * tokenizer models); nothing else of the folder is exposed. `missing` names what is not there to give: model.json
 * itself, or `file`.
 */
export async function readListedModelFile(
  dir: string,
  file: string,
): Promise<{ body: string | Buffer; modelJson: boolean } | { missing: string }> {
  const json = await readFile(path.join(dir, 'model.json'), 'utf8').catch(() => null);
  if (json === null) return { missing: 'model.json' };
  if (file === 'model.json') return { body: json, modelJson: true };
  if (!namedFilesOf(json).has(file)) return { missing: file };
  return { body: await readFile(path.join(dir, file)), modelJson: false };
}
