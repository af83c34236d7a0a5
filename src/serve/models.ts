// The models a server holds: each model directory is read once at start-up, whatever its kind (a translator, or a
// head: language model, classifier, forecaster), and kept under a name for the lifetime of the process.
import * as path from 'node:path';
import { loadModelFiles, ModelFileError } from '../model/modelFiles.js';
import { Translator } from '../translation/translator.js';
import { TextClassifier, CLASSIFIER_KIND } from '../heads/classifier/textClassifier.js';
import { TextLanguageModel, LM_KIND } from '../heads/lm/textLanguageModel.js';
import { SeriesForecaster, FORECASTER_KIND } from '../heads/forecaster/seriesForecaster.js';
import { ToolkitError } from '../errors.js';
import type { ListedModel } from '../model/listing.js';
import { pageExample } from '../demo/numberWords.js';

export class ServeError extends ToolkitError {
  override name = 'ServeError';
}

/** `--model NAME=DIR` or `--model DIR`. */
export interface ModelSpec {
  name: string;
  dir: string;
}

interface Common {
  name: string;
  dir: string;
  /** Trainable weights (a size that compares models). */
  weights: number;
}

export type ServedModel =
  | (Common & { kind: 'seq2seq'; translator: Translator; languages: { source: string; target: string } | null })
  | (Common & { kind: 'classifier'; classifier: TextClassifier })
  | (Common & { kind: 'lm'; lm: TextLanguageModel })
  | (Common & { kind: 'forecaster'; forecaster: SeriesForecaster });

export type ModelKind = ServedModel['kind'];

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * `NAME=DIR`, or `DIR` named after its folder (the parent's name for a `best/` checkpoint folder, so
 * runs/m30k/best is served as "m30k").
 */
export function parseModelSpec(spec: string): ModelSpec {
  const eq = spec.indexOf('=');
  if (eq > 0 && NAME.test(spec.slice(0, eq))) return { name: spec.slice(0, eq), dir: spec.slice(eq + 1) };
  const resolved = path.resolve(spec);
  const base = path.basename(resolved);
  const name = base === 'best' ? path.basename(path.dirname(resolved)) : base;
  if (!NAME.test(name))
    throw new ServeError(`--model ${spec}: cannot name a model after its folder "${name}"; give NAME=DIR`);
  return { name, dir: spec };
}

/** Source and target languages, when the training corpus spec names them (e.g. train.{en,fr}.gz). */
export function languagesOf(info: Record<string, unknown>): { source: string; target: string } | null {
  const given = info['languages'];
  if (given !== null && typeof given === 'object') {
    const { source, target } = given as Record<string, unknown>;
    if (typeof source === 'string' && typeof target === 'string') return { source, target };
  }
  if (typeof info['corpus'] !== 'string') return null;
  const corpus = info['corpus'].replace(/\.gz(?=,|$)/g, '');
  const braces = /\.\{([a-z]{2,3}),([a-z]{2,3})\}/.exec(corpus);
  if (braces !== null) return { source: braces[1]!, target: braces[2]! };
  const aligned = /^aligned:[^,]*\.([a-z]{2,3}),[^,]*\.([a-z]{2,3})$/.exec(corpus);
  return aligned === null ? null : { source: aligned[1]!, target: aligned[2]! };
}

/** Reads one model directory, whatever kind of model it holds (model.json names the kind). */
export async function loadServedModel(spec: ModelSpec): Promise<ServedModel> {
  const { name, dir } = spec;
  // Checks the directory and names its kind; each kind's own loader then reads it with what it needs beside
  // model.json (e.g. a SentencePiece model file).
  const { json } = await loadModelFiles<unknown, unknown>(dir);
  switch (json.kind) {
    case 'seq2seq': {
      const translator = await Translator.load(dir);
      return {
        name,
        dir,
        kind: 'seq2seq',
        translator,
        languages: languagesOf(translator.info),
        weights: translator.model.params.count(),
      };
    }
    case CLASSIFIER_KIND: {
      const classifier = await TextClassifier.load(dir);
      return { name, dir, kind: 'classifier', classifier, weights: classifier.model.params.count() };
    }
    case LM_KIND: {
      const lm = await TextLanguageModel.load(dir);
      return { name, dir, kind: 'lm', lm, weights: lm.model.params.count() };
    }
    case FORECASTER_KIND: {
      const forecaster = await SeriesForecaster.load(dir);
      return { name, dir, kind: 'forecaster', forecaster, weights: forecaster.model.params.count() };
    }
    default:
      throw new ModelFileError(`${dir}/model.json: a "${json.kind}" model, which the server cannot serve`);
  }
}

/** Throws a ServeError unless there is a model and no two share a name (what can be told before loading any). */
export function checkModelSpecs(specs: readonly ModelSpec[]): void {
  if (specs.length === 0) throw new ServeError('no model given (--model DIR)');
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.name)) throw new ServeError(`two models are named "${s.name}"; name them with --model NAME=DIR`);
    seen.add(s.name);
  }
}

/** Loads every model (names must differ); on any failure the ones already loaded are released. */
export async function loadServedModels(specs: readonly ModelSpec[]): Promise<ServedModel[]> {
  checkModelSpecs(specs);
  const models: ServedModel[] = [];
  try {
    for (const s of specs) models.push(await loadServedModel(s));
  } catch (e) {
    disposeModels(models);
    throw e;
  }
  return models;
}

/** The model as the browser page lists it (/models.json of translate serve and translate web). */
export function listedModel(m: ServedModel): ListedModel {
  const seq2seq = m.kind === 'seq2seq';
  return {
    name: m.name,
    dir: m.dir,
    kind: m.kind,
    languages: seq2seq ? m.languages : null,
    weights: m.weights,
    example: seq2seq ? pageExample(m.translator.info) : null,
  };
}

export function disposeModels(models: readonly ServedModel[]): void {
  for (const m of models) {
    if (m.kind === 'seq2seq') m.translator.dispose();
    else if (m.kind === 'classifier') m.classifier.dispose();
    else if (m.kind === 'lm') m.lm.dispose();
    else m.forecaster.dispose();
  }
}
