// Saving and loading a head (language model, classifier, forecaster) in the same model-directory format as the
// translation model: model.json (kind, typed config, whatever the task adds as `extra`) beside one weights file.
import type { Params } from '../model/params.js';
import { saveModelFiles, loadModelFiles } from '../model/modelFiles.js';

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
export async function loadHead<C, E, M extends Head<C>>(dir: string, kind: string, build: (config: C) => M): Promise<{ model: M; extra: E }> {
  const { json, data } = await loadModelFiles<C, E>(dir, kind);
  const model = build(json.config);
  try {
    model.params.load(json.weights.manifest, data, `${dir}/model.json`);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, extra: json.extra };
}
