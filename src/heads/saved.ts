// Saving and loading a head (language model, classifier, forecaster) in the same model-directory format as the
// translation model: model.json (kind, typed config, whatever the task adds as `extra`) beside one weights file.
// A freshly built head takes its saved weights through withSavedWeights (src/model/modelFiles.ts), as the
// translator and the text wrappers (TextLanguageModel, TextClassifier, SeriesForecaster) do.
import type { Params } from '../model/params.js';
import { saveModelFiles, loadModelFiles, withSavedWeights } from '../model/modelFiles.js';

export interface Head<C> {
  readonly config: C;
  readonly params: Params;
  dispose(): void;
}

export async function saveHead<C, E>(dir: string, kind: string, model: Head<C>, extra: E): Promise<void> {
  const { manifest, data } = model.params.serialize();
  await saveModelFiles(dir, kind, model.config, manifest, data, extra);
}

/** Loads a head of `kind` from `dir`, rebuilding it from its saved config with `build`. */
export async function loadHead<C, E, M extends Head<C>>(
  dir: string,
  kind: string,
  build: (config: C) => M,
): Promise<{ model: M; extra: E }> {
  const { json, data } = await loadModelFiles<C, E>(dir, kind);
  return { model: withSavedWeights(build(json.config), json, data, `${dir}/model.json`), extra: json.extra };
}
