// Saving and loading a head (language model, classifier, forecaster) in the same model-directory format as the
// translation model: model.json (kind, typed config, whatever the task adds as `extra`) beside one weights file.
// withSavedWeights is the one place a freshly built head takes its saved weights: the text wrappers
// (TextLanguageModel, TextClassifier, SeriesForecaster) and loadHead all load through it.
import type { Params } from '../model/params.js';
import { saveModelFiles, loadModelFiles, type SavedModelJson } from '../model/modelFiles.js';

export interface Head<C> {
  readonly config: C;
  readonly params: Params;
  dispose(): void;
}

/**
 * Loads the weights of `json` (its manifest) from `data` into `model`, built from the saved config, and returns it;
 * when they do not fit (a missing tensor, a wrong shape) the model is disposed and the error passed on, so a failed
 * load leaks no tensors. `where` names model.json in errors.
 */
export function withSavedWeights<M extends { readonly params: Params; dispose(): void }>(
  model: M, json: Pick<SavedModelJson, 'weights'>, data: Float32Array, where: string,
): M {
  try {
    model.params.load(json.weights.manifest, data, where);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

export async function saveHead<C, E>(dir: string, kind: string, model: Head<C>, extra: E): Promise<void> {
  const { manifest, data } = model.params.serialize();
  await saveModelFiles(dir, kind, model.config, manifest, data, extra);
}

/** Loads a head of `kind` from `dir`, rebuilding it from its saved config with `build`. */
export async function loadHead<C, E, M extends Head<C>>(dir: string, kind: string, build: (config: C) => M): Promise<{ model: M; extra: E }> {
  const { json, data } = await loadModelFiles<C, E>(dir, kind);
  return { model: withSavedWeights(build(json.config), json, data, `${dir}/model.json`), extra: json.extra };
}
