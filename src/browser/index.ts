// The toolkit in a web page: load a model directory written by `translate train` / `demo` over HTTP and translate
// with it, on tfjs's wasm backend (useBackend) or its cpu backend (plain JavaScript, present in every browser); the
// toolkit's fused cell kernels are registered on both. Bundled by web/build.mjs, with sentencepiece-js in a file of
// its own (sentencepiece.js beside translate.js), fetched only for a model with SentencePiece tokenizers.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from '../backend/wasm/kernels.js';
import {
  Translator,
  type TranslatorExtra,
  type TranslateOptions,
  type Translation,
} from '../translation/translator.js';
import { ModelFileError, MODEL_FILE, type SavedModelJson } from '../model/modelFiles.js';
import type { Seq2SeqConfig } from '../translation/seq2seq.js';
import type { SentencePieceJs } from '../data/text/sentencePieceTokenizer.js';
import { TextClassifier, CLASSIFIER_KIND } from '../heads/classifier/textClassifier.js';
import { TextLanguageModel, LM_KIND } from '../heads/lm/textLanguageModel.js';
import type { GenerateOptions } from '../heads/lm/languageModel.js';
import { SeriesForecaster, FORECASTER_KIND } from '../heads/forecaster/seriesForecaster.js';

export { Translator, TextClassifier, TextLanguageModel, SeriesForecaster, type TranslateOptions, type Translation };

/** The tfjs backend the page translates on (shown to the user). */
export function currentBackend(): string {
  return tf.getBackend();
}

export type BrowserBackend = 'wasm' | 'cpu';

/**
 * Selects the backend translators run on: 'wasm' (WebAssembly with SIMD where the browser has it, plus the toolkit's
 * kernels, as in Node; its .wasm files are fetched from `wasmPath`, a URL ending in /) or 'cpu' (plain JavaScript).
 * A wasm backend that cannot start falls back on cpu, then and on every later call. Returns the backend in use. Call
 * before loadTranslator.
 */
export async function useBackend(name: BrowserBackend, wasmPath?: string): Promise<string> {
  if (name === 'wasm') {
    // tfjs refuses new paths once a start has failed (it does not retry): wasm then stays unavailable.
    let pathsTaken = true;
    try {
      if (wasmPath !== undefined) setWasmPaths(wasmPath);
    } catch {
      pathsTaken = false;
    }
    if (pathsTaken && (await tf.setBackend('wasm').catch(() => false))) {
      registerWasmKernels();
      return 'wasm';
    }
  }
  await tf.setBackend('cpu');
  return 'cpu';
}

function hex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function get(url: string, fetchImpl: typeof fetch): Promise<Response> {
  let response: Response;
  try {
    response = await fetchImpl(url);
  } catch (e) {
    throw new ModelFileError(`${url}: cannot fetch (${(e as Error).message})`);
  }
  if (!response.ok) throw new ModelFileError(`${url}: HTTP ${response.status}`);
  return response;
}

/** sentencepiece-js, from sentencepiece.js beside this bundle (built by web/build.mjs). */
async function sentencePieceJs(): Promise<SentencePieceJs> {
  const url = new URL('sentencepiece.js', import.meta.url).href;
  try {
    return (await import(/* webpackIgnore: true */ url)) as SentencePieceJs;
  } catch (e) {
    throw new ModelFileError(`${url}: cannot load SentencePiece (${(e as Error).message})`);
  }
}

/** The SentencePiece model files these tokenizer configs name, fetched from the model directory (checked on load). */
async function tokenizerFiles(
  configs: readonly unknown[],
  base: string,
  fetchImpl: typeof fetch,
): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const t of configs) {
    const config = t as { kind?: unknown; model?: unknown } | null | undefined;
    if (config?.kind !== 'sentencepiece' || typeof config.model !== 'string' || files.has(config.model)) continue;
    // A bare file name (model.json is checked again when the model is built): never a path out of the folder.
    if (/[/\\]|^\.\.?$/.test(config.model)) continue;
    const url = `${base}${encodeURIComponent(config.model)}`;
    files.set(config.model, new Uint8Array(await (await get(url, fetchImpl)).arrayBuffer()));
  }
  return files;
}

/** A model directory of any kind the toolkit saves, loaded in the page. */
export type LoadedModel =
  | { kind: 'seq2seq'; model: Translator }
  | { kind: 'classifier'; model: TextClassifier }
  | { kind: 'lm'; model: TextLanguageModel }
  | { kind: 'forecaster'; model: SeriesForecaster };

/**
 * Loads the model directory at `baseUrl` (…/model.json beside its weights and tokenizer files), whatever it holds:
 * a translation model, a classifier, a language model or a forecaster. Runs on the backend useBackend chose (the cpu
 * backend when none was chosen).
 */
export function loadModel(baseUrl: string, fetchImpl: typeof fetch = fetch): Promise<LoadedModel> {
  return loadAny(baseUrl, fetchImpl, false);
}

/** Loads the translation model at `baseUrl` (see loadModel); a model of another kind is refused. */
export async function loadTranslator(baseUrl: string, fetchImpl: typeof fetch = fetch): Promise<Translator> {
  return (await loadAny(baseUrl, fetchImpl, true)).model as Translator;
}

async function loadAny(baseUrl: string, fetchImpl: typeof fetch, translatorOnly: boolean): Promise<LoadedModel> {
  // tf.getBackend() would start the highest-priority backend (wasm, from a guessed path): ask the engine instead.
  if (tf.engine().backendName === null) await tf.setBackend('cpu');
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const jsonUrl = `${base}${MODEL_FILE}`;
  let json: SavedModelJson;
  try {
    json = (await (await get(jsonUrl, fetchImpl)).json()) as SavedModelJson;
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    throw new ModelFileError(`${jsonUrl}: corrupt JSON (${(e as Error).message})`);
  }
  if (
    json?.format !== 'seq2seq-ts/model@1' ||
    typeof json.weights?.file !== 'string' ||
    (translatorOnly && json.kind !== 'seq2seq')
  )
    throw new ModelFileError(`${jsonUrl}: not a seq2seq-ts ${translatorOnly ? 'translation ' : ''}model`);
  const known = ['seq2seq', CLASSIFIER_KIND, LM_KIND, FORECASTER_KIND];
  if (!known.includes(json.kind))
    throw new ModelFileError(`${jsonUrl}: a "${String(json.kind)}" model, which the page cannot load`);
  const weightsUrl = `${base}${json.weights.file.split('/').pop()}`;
  const bytes = await (await get(weightsUrl, fetchImpl)).arrayBuffer();
  if (hex(await crypto.subtle.digest('SHA-256', bytes)) !== json.weights.sha256)
    throw new ModelFileError(`${weightsUrl}: checksum mismatch, the weights file is corrupt`);
  const data = new Float32Array(bytes);
  const extra = (json.extra ?? {}) as Record<string, unknown>;
  const tokenizers =
    json.kind === 'seq2seq'
      ? [extra['sourceTokenizer'], extra['targetTokenizer']]
      : json.kind === CLASSIFIER_KIND
        ? [(extra['input'] as { tokenizer?: unknown } | undefined)?.tokenizer]
        : json.kind === LM_KIND
          ? [extra['tokenizer']]
          : [];
  const files = await tokenizerFiles(tokenizers, base, fetchImpl);
  const options = { files, ...(files.size > 0 ? { sentencePieceJs: await sentencePieceJs() } : {}) };
  switch (json.kind) {
    case CLASSIFIER_KIND:
      return { kind: 'classifier', model: await TextClassifier.fromSaved(json as never, data, jsonUrl, options) };
    case LM_KIND:
      return { kind: 'lm', model: await TextLanguageModel.fromSaved(json as never, data, jsonUrl, options) };
    case FORECASTER_KIND:
      return { kind: 'forecaster', model: SeriesForecaster.fromSaved(json as never, data, jsonUrl) };
    default:
      return {
        kind: 'seq2seq',
        model: await Translator.fromSaved(
          json as SavedModelJson<Partial<Seq2SeqConfig>, TranslatorExtra>,
          data,
          jsonUrl,
          options,
        ),
      };
  }
}

interface ModelOfKind {
  seq2seq: Translator;
  classifier: TextClassifier;
  lm: TextLanguageModel;
  forecaster: SeriesForecaster;
}

/** A message to the page's model (from the page, or posted to its Web Worker). */
export type PageRequest =
  | { type: 'load'; url: string; backend?: BrowserBackend }
  | { type: 'translate'; lines: string[]; options?: TranslateOptions }
  | { type: 'classify'; lines: string[] }
  | { type: 'generate'; prompts: string[]; options?: GenerateOptions }
  | { type: 'forecast'; columns: number[][]; steps?: number };

/**
 * What answers the page's requests, holding one loaded model: web/worker.js runs it in a Web Worker, the page itself
 * where there is none. The backend is chosen with the first load (tfjs's wasm binaries are fetched from `wasmPath`).
 * Answers are plain data (they cross to the page by structured clone).
 */
export function createPageHandler(wasmPath: string): (request: PageRequest) => Promise<Record<string, unknown>> {
  let loaded: LoadedModel | undefined;
  let loads = 0;
  const need = <K extends keyof ModelOfKind>(kind: K): ModelOfKind[K] => {
    if (loaded === undefined) throw new Error('no model loaded');
    if (loaded.kind !== kind) throw new Error(`the loaded model is a ${loaded.kind} model, not a ${kind} model`);
    return loaded.model as ModelOfKind[K];
  };
  return async (m) => {
    switch (m.type) {
      case 'load': {
        loaded?.model.dispose();
        loaded = undefined;
        if (m.backend !== undefined && loads++ === 0) await useBackend(m.backend, wasmPath);
        loaded = await loadModel(m.url);
        return {
          kind: loaded.kind,
          weights: loaded.model.model.params.count(),
          backend: currentBackend(),
          ...describe(loaded),
        };
      }
      case 'translate':
        return {
          results: need('seq2seq')
            .translate(m.lines, m.options)
            .map((r) => ({
              text: r.text,
              sourceTokens: r.sourceTokens,
              unknownTokens: r.unknownTokens,
              replacedUnknown: r.replacedUnknown,
              nBest: r.nBest.map((h) => ({ text: h.text, score: h.score, tokens: h.tokens, attention: h.attention })),
            })),
        };
      case 'classify': {
        const c = need('classifier');
        const texts = m.lines.filter((l) => l.trim() !== '');
        const predictions = c.predictTexts(texts);
        let k = 0;
        return {
          predictions: m.lines.map((l) => {
            if (l.trim() === '') return null;
            const p = predictions[k++]!;
            return { label: p.label, probability: p.probability };
          }),
        };
      }
      case 'generate':
        return { generations: need('lm').generate(m.prompts, m.options) };
      case 'forecast': {
        const f = need('forecaster');
        const steps = m.steps ?? f.model.config.horizon;
        const values = f.forecastAhead(m.columns, steps);
        return { steps, forecast: Object.fromEntries(f.settings.targets.map((t, g) => [t, Array.from(values[g]!)])) };
      }
    }
  };
}

/** What the page shows about a loaded model besides its size: its info, labels or columns. */
function describe(loaded: LoadedModel): Record<string, unknown> {
  switch (loaded.kind) {
    case 'seq2seq':
      return { info: loaded.model.info };
    case 'classifier':
      return { labels: loaded.model.labels.labels, input: loaded.model.input.kind };
    case 'lm':
      return {};
    case 'forecaster':
      return {
        inputs: loaded.model.settings.inputs,
        targets: loaded.model.settings.targets,
        window: loaded.model.settings.window,
        horizon: loaded.model.model.config.horizon,
      };
  }
}
