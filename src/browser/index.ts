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

export { Translator, type TranslateOptions, type Translation };

/** The tfjs backend the page translates on (shown to the user). */
export function currentBackend(): string {
  return tf.getBackend();
}

export type BrowserBackend = 'wasm' | 'cpu';

/**
 * Selects the backend translators run on: 'wasm' (WebAssembly with SIMD where the browser has it, plus the toolkit's
 * kernels, as in Node; its .wasm files are fetched from `wasmPath`, a URL ending in /) or 'cpu' (plain JavaScript).
 * A wasm backend that cannot start falls back on cpu. Returns the backend in use. Call before loadTranslator.
 */
export async function useBackend(name: BrowserBackend, wasmPath?: string): Promise<string> {
  if (name === 'wasm') {
    if (wasmPath !== undefined) setWasmPaths(wasmPath);
    if (await tf.setBackend('wasm').catch(() => false)) {
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

/** The SentencePiece model files the tokenizers name, fetched from the model directory (checked when loaded). */
async function tokenizerFiles(
  extra: TranslatorExtra | undefined,
  base: string,
  fetchImpl: typeof fetch,
): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const t of [extra?.sourceTokenizer, extra?.targetTokenizer] as unknown[]) {
    const config = t as { kind?: unknown; model?: unknown } | undefined;
    if (config?.kind !== 'sentencepiece' || typeof config.model !== 'string' || files.has(config.model)) continue;
    // A bare file name (model.json is checked again when the translator is built): never a path out of the folder.
    if (/[/\\]|^\.\.?$/.test(config.model)) continue;
    const url = `${base}${encodeURIComponent(config.model)}`;
    files.set(config.model, new Uint8Array(await (await get(url, fetchImpl)).arrayBuffer()));
  }
  return files;
}

/**
 * Loads the model directory at `baseUrl` (…/model.json beside its weights), on the backend useBackend chose (the cpu
 * backend when none was chosen).
 */
export async function loadTranslator(baseUrl: string, fetchImpl: typeof fetch = fetch): Promise<Translator> {
  // tf.getBackend() would start the highest-priority backend (wasm, from a guessed path): ask the engine instead.
  if (tf.engine().backendName === null) await tf.setBackend('cpu');
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const jsonUrl = `${base}${MODEL_FILE}`;
  let json: SavedModelJson<Partial<Seq2SeqConfig>, TranslatorExtra>;
  try {
    json = (await (await get(jsonUrl, fetchImpl)).json()) as SavedModelJson<Partial<Seq2SeqConfig>, TranslatorExtra>;
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    throw new ModelFileError(`${jsonUrl}: corrupt JSON (${(e as Error).message})`);
  }
  if (json?.format !== 'seq2seq-ts/model@1' || json.kind !== 'seq2seq')
    throw new ModelFileError(`${jsonUrl}: not a seq2seq-ts translation model`);
  const weightsUrl = `${base}${json.weights.file.split('/').pop()}`;
  const bytes = await (await get(weightsUrl, fetchImpl)).arrayBuffer();
  if (hex(await crypto.subtle.digest('SHA-256', bytes)) !== json.weights.sha256)
    throw new ModelFileError(`${weightsUrl}: checksum mismatch, the weights file is corrupt`);
  const files = await tokenizerFiles(json.extra, base, fetchImpl);
  const sentencePiece = files.size > 0 ? { sentencePieceJs: await sentencePieceJs() } : {};
  return Translator.fromSaved(json, new Float32Array(bytes), jsonUrl, { files, ...sentencePiece });
}
