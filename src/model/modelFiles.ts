// A saved model is a directory:
//   model.json             config, vocabularies, tokenizers, weight manifest, the weights file's name and checksum;
//                          in a training checkpoint also a "training" section (src/train/checkpoints.ts)
//   weights-<hash>.bin     all weights as one little-endian float32 buffer
//   optimizer-<hash>.bin   (training checkpoints) the optimiser's slots, named and checked in the training section
// Saving never leaves a half-written model: the data files go to new content-named files first, then model.json,
// the one file that names them, is replaced by rename (atomic on POSIX), then files it no longer names are removed.
// A crash at any point leaves either the old model or the new one loadable. The atomic writes, the written-files
// list and the content-named files are atomicFiles.ts's; this file holds model.json's format and its checks.
import { ToolkitError, withFileSystemErrors } from '../errors.js';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Params, WeightEntry } from './params.js';
import {
  WRITTEN_LIST,
  CONTENT_FILE,
  readWrittenList,
  noteWritten,
  writeFileAtomic,
  writeContentFile,
  sha256Hex,
  syncDirectory,
} from './atomicFiles.js';

export const MODEL_FILE = 'model.json';

export class ModelFileError extends ToolkitError {
  override name = 'ModelFileError';
}

export interface SavedModelJson<Config = unknown, Extra = unknown> {
  format: 'seq2seq-ts/model@1';
  /** Which model class: 'seq2seq', later 'lm', 'classifier', 'forecaster'. */
  kind: string;
  config: Config;
  weights: { file: string; sha256: string; manifest: WeightEntry[] };
  /** Vocabularies, tokenizers, metrics…: whatever the model kind needs to rebuild itself. */
  extra: Extra;
  /**
   * sha256 over format, kind, config, weights (file, checksum, manifest) and extra: see modelChecksum. Absent in model
   * directories written before it existed.
   */
  checksum?: string;
  /** Training checkpoints only: the state `--resume` continues from (loaders of the model ignore it). */
  training?: unknown;
}

/** Reads a content file named by a model.json and checks its checksum. */
export async function readContentFile(dir: string, file: string, sha256: string, what = 'data'): Promise<Uint8Array> {
  const p = path.join(dir, path.basename(file));
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(p);
  } catch (e) {
    throw new ModelFileError(
      `${p}: cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  if (sha256Hex(bytes) !== sha256) throw new ModelFileError(`${p}: checksum mismatch, the ${what} file is corrupt`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function float32View(bytes: Uint8Array, where: string): Float32Array {
  if (bytes.byteLength % 4 !== 0)
    throw new ModelFileError(`${where}: size ${bytes.byteLength} is not a whole number of float32 values`);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/**
 * The files a model.json names: the plain file name under "file" or "model" beside a "sha256" (the weights file,
 * a tokenizer's model), outside the training section. What a server may hand out of a model directory besides
 * model.json; other strings in model.json (a corpus path in the notes, say) name nothing to serve.
 */
export function namedFiles(json: unknown): Set<string> {
  const names = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) walk(x);
    } else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o['sha256'] === 'string') {
        for (const k of ['file', 'model']) {
          const x = o[k];
          if (typeof x === 'string' && x !== '' && path.basename(x) === x && x !== '.' && x !== '..') names.add(x);
        }
      }
      for (const [k, x] of Object.entries(o)) if (k !== 'training') walk(x);
    }
  };
  walk(json);
  return names;
}

/** namedFiles of model.json's text; none when the text is not JSON. */
export function namedFilesOf(text: string): Set<string> {
  try {
    return namedFiles(JSON.parse(text));
  } catch {
    return new Set();
  }
}

/** A file the model needs besides its weights (a tokenizer's model), written into the directory before model.json. */
export interface ModelSideFile {
  /** A plain file name inside the directory (no separators), named in model.json's extra section. */
  name: string;
  bytes: Uint8Array;
}

export interface SaveModelOptions {
  /** The training section of a checkpoint; the data files it names must already be in `dir` (writeContentFile). */
  training?: unknown;
  /** Side files (e.g. a SentencePiece model) that make the directory self-contained. */
  files?: readonly ModelSideFile[];
}

/**
 * The checksum model.json carries over everything that rebuilds the model: format, kind, config, the weights file's
 * name and checksum, the manifest that cuts it into tensors, and extra (vocabularies, tokenizers). The weights file's
 * own sha256 cannot see a manifest whose offsets were swapped; this can. Not covered: the training section.
 */
export function modelChecksum(json: Pick<SavedModelJson, 'format' | 'kind' | 'config' | 'weights' | 'extra'>): string {
  const { format, kind, config, weights, extra } = json;
  return sha256Hex(JSON.stringify({ format, kind, config, weights, extra }));
}

export async function saveModelFiles<C, E>(
  dir: string,
  kind: string,
  config: C,
  manifest: WeightEntry[],
  data: Float32Array,
  extra: E,
  options: SaveModelOptions = {},
): Promise<void> {
  // A file where the directory should be, a read-only or full disk: one line naming the path, not a Node trace.
  await withFileSystemErrors(dir, 'cannot save the model', async () => {
    await fs.mkdir(dir, { recursive: true });
    await refuseForeignModelJson(dir);
    await adoptOlderModelFiles(dir);
    for (const f of options.files ?? []) await writeSideFile(dir, f);
    const { file, sha256 } = await writeContentFile(
      dir,
      'weights',
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
    const json: SavedModelJson<C, E> = {
      format: 'seq2seq-ts/model@1',
      kind,
      config,
      weights: { file, sha256, manifest },
      extra,
    };
    json.checksum = modelChecksum(json);
    if (options.training !== undefined) json.training = options.training;
    const text = JSON.stringify(json, null, 1) + '\n';
    await writeFileAtomic(path.join(dir, MODEL_FILE), text);
    await syncDirectory(dir);
    await removeUnreferenced(dir, text);
  });
}

/**
 * Throws when `dir` holds a model.json this toolkit did not write (not JSON, or another format): saving replaces
 * model.json, and a file the toolkit did not write is never replaced or removed.
 */
export async function refuseForeignModelJson(dir: string): Promise<void> {
  const text = await fs.readFile(path.join(dir, MODEL_FILE), 'utf8').catch(() => null);
  if (text === null) return;
  let format: unknown;
  try {
    const parsed = JSON.parse(text) as unknown;
    format = isPlainObject(parsed) ? parsed['format'] : undefined;
  } catch {
    format = undefined;
  }
  if (format !== 'seq2seq-ts/model@1')
    throw new ModelFileError(
      `${path.join(dir, MODEL_FILE)}: not a model this toolkit wrote; it is left as it is (choose another directory)`,
    );
}

/** Writes a side file unless the same bytes are already there (its name carries its hash, so it never changes). */
async function writeSideFile(dir: string, f: ModelSideFile): Promise<void> {
  if (f.name !== path.basename(f.name) || f.name.startsWith('.') || f.name === MODEL_FILE)
    throw new ModelFileError(`${f.name}: not a plain file name for a model side file`);
  const target = path.join(dir, f.name);
  const same = await fs.readFile(target).then(
    (b) => sha256Hex(b) === sha256Hex(f.bytes),
    () => false,
  );
  if (!same) await writeFileAtomic(target, f.bytes, { owned: true });
}

/**
 * A directory written before the written-files list existed: the data files its model.json names were written by
 * this toolkit, so they go on the list (and are removed once a new model.json no longer names them).
 */
async function adoptOlderModelFiles(dir: string): Promise<void> {
  const listed = await fs.stat(path.join(dir, WRITTEN_LIST)).then(
    () => true,
    () => false,
  );
  if (listed) return;
  const old = await fs.readFile(path.join(dir, MODEL_FILE), 'utf8').then(
    (t) => JSON.parse(t) as unknown,
    () => null,
  );
  if (!isPlainObject(old) || old['format'] !== 'seq2seq-ts/model@1') return;
  const named = [
    (old['weights'] as { file?: unknown } | undefined)?.file,
    (old['training'] as { optimizer?: { file?: unknown } } | undefined)?.optimizer?.file,
  ];
  for (const f of named)
    if (typeof f === 'string' && f === path.basename(f) && CONTENT_FILE.test(f)) await noteWritten(dir, f);
}

/**
 * Removes the listed files model.json does not name (old data files, temporary files of killed writers); the list
 * keeps the rest.
 */
async function removeUnreferenced(dir: string, modelJsonText: string): Promise<void> {
  const keep: string[] = [];
  for (const f of new Set(await readWrittenList(dir))) {
    if (f === MODEL_FILE || f === WRITTEN_LIST) continue;
    if (modelJsonText.includes(JSON.stringify(f))) {
      keep.push(f);
      continue;
    }
    await fs.rm(path.join(dir, f), { force: true });
  }
  // A kill during this write can only lose names (their files are then left, never a foreign one removed).
  await fs.writeFile(path.join(dir, WRITTEN_LIST), keep.map((f) => `${f}\n`).join(''));
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

export async function loadModelFiles<C, E>(
  dir: string,
  expectedKind?: string,
): Promise<{ json: SavedModelJson<C, E>; data: Float32Array }> {
  const jsonPath = path.join(dir, MODEL_FILE);
  let text: string;
  try {
    text = await fs.readFile(jsonPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const st = await fs.stat(dir).catch(() => null);
      throw new ModelFileError(
        st === null
          ? `${dir}: no such model directory`
          : st.isDirectory()
            ? `${dir}: not a model directory (no ${MODEL_FILE})`
            : `${dir}: not a directory (a model is a directory holding ${MODEL_FILE})`,
      );
    }
    throw new ModelFileError(`${jsonPath}: cannot read (${code ?? (e as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(`${jsonPath}: corrupt JSON (${(e as Error).message})`);
  }
  const json = checkModelJson<C, E>(parsed, jsonPath, expectedKind);
  const bytes = await readContentFile(dir, json.weights.file, json.weights.sha256, 'weights');
  const data = float32View(bytes, path.join(dir, json.weights.file));
  checkManifest(json.weights.manifest, data.length, jsonPath);
  return { json, data };
}

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Checks a parsed model.json completely before anything is built from it: the format, kind and weights fields, the
 * manifest's entries (names, integer shapes and offsets), and the checksum over config, manifest and extra when the
 * file has one (directories written before the checksum existed have none, and load on the structural checks alone).
 */
export function checkModelJson<C, E>(parsed: unknown, where: string, expectedKind?: string): SavedModelJson<C, E> {
  const fail = (what: string): never => {
    throw new ModelFileError(`${where}: ${what}`);
  };
  if (!isPlainObject(parsed) || parsed['format'] !== 'seq2seq-ts/model@1') {
    return fail(
      `not a seq2seq-ts model (format ${JSON.stringify(isPlainObject(parsed) ? parsed['format'] : undefined) ?? 'missing'})`,
    );
  }
  const json = parsed as unknown as SavedModelJson<C, E>;
  if (typeof json.kind !== 'string') fail('"kind" must be a string');
  if (expectedKind !== undefined && json.kind !== expectedKind)
    fail(`a "${json.kind}" model, expected "${expectedKind}"`);
  if (!Object.hasOwn(parsed, 'config') || !isPlainObject(json.config)) fail('"config" must be an object');
  const w = json.weights as unknown;
  if (!isPlainObject(w)) return fail('"weights" must be an object');
  if (
    typeof w['file'] !== 'string' ||
    w['file'] !== path.basename(w['file']) ||
    w['file'].startsWith('.') ||
    w['file'] === MODEL_FILE
  ) {
    fail(`"weights.file" must be a plain file name inside the model directory, got ${JSON.stringify(w['file'])}`);
  }
  if (typeof w['sha256'] !== 'string' || !SHA256.test(w['sha256']))
    fail('"weights.sha256" must be 64 hexadecimal digits');
  if (!Array.isArray(w['manifest'])) fail('"weights.manifest" must be a list');
  checkManifest(w['manifest'] as unknown[], Number.MAX_SAFE_INTEGER, where);
  if (json.checksum !== undefined) {
    if (typeof json.checksum !== 'string' || !SHA256.test(json.checksum))
      fail('"checksum" must be 64 hexadecimal digits');
    if (modelChecksum(json) !== json.checksum) {
      fail(
        'checksum mismatch: config, weights manifest or vocabularies were changed after the model was written ' +
          '(if you edited it on purpose, delete the "checksum" field)',
      );
    }
  }
  return json;
}

/**
 * A weights manifest cuts the weights buffer (`length` float32 values) into named tensors: every entry needs a
 * unique name, a shape of non-negative integers, an integer offset, and must lie inside the buffer without
 * overlapping another entry. Throws ModelFileError naming the first bad entry.
 */
export function checkManifest(
  manifest: readonly unknown[],
  length: number,
  where: string,
): asserts manifest is WeightEntry[] {
  const names = new Set<string>();
  const spans: { start: number; end: number; name: string }[] = [];
  manifest.forEach((e, i) => {
    const fail = (what: string): never => {
      throw new ModelFileError(
        `${where}: weights.manifest[${i}]${isPlainObject(e) && typeof e['name'] === 'string' ? ` ("${e['name']}")` : ''} ${what}`,
      );
    };
    if (!isPlainObject(e)) return fail('must be an object with name, shape and offset');
    const { name, shape, offset } = e;
    if (typeof name !== 'string' || name.length === 0) fail('needs a name (a non-empty string)');
    if (names.has(name as string)) fail('appears twice');
    names.add(name as string);
    if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      fail(`shape must be a list of at most 8 non-negative integers, got ${JSON.stringify(shape)}`);
    if (!Number.isSafeInteger(offset) || (offset as number) < 0)
      fail(`offset must be a non-negative integer, got ${JSON.stringify(offset)}`);
    let size = 1;
    for (const d of shape as number[]) {
      size *= d;
      if (size > length)
        fail(`shape [${(shape as number[]).join(',')}] does not fit in the weights file (${length} values)`);
    }
    const start = offset as number;
    if (start + size > length) fail(`reaches value ${start + size} of a weights file with ${length}`);
    spans.push({ start, end: start + size, name: name as string });
  });
  spans.sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 1; i < spans.length; i++) {
    const [a, b] = [spans[i - 1]!, spans[i]!];
    if (b.start < a.end)
      throw new ModelFileError(`${where}: weights "${a.name}" and "${b.name}" overlap in the weights file`);
  }
}

/**
 * Loads the weights of `json` (its manifest) from `data` into `model`, built from the saved config, and returns it;
 * when they do not fit (a missing tensor, a wrong shape) the model is disposed and the error passed on, so a failed
 * load leaks no tensors. `where` names model.json in errors.
 */
export function withSavedWeights<M extends { readonly params: Params; dispose(): void }>(
  model: M,
  json: Pick<SavedModelJson, 'weights'>,
  data: Float32Array,
  where: string,
): M {
  try {
    model.params.load(json.weights.manifest, data, where);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
