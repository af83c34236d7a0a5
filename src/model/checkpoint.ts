// A saved model is a directory:
//   model.json             config, vocabularies, tokenizers, weight manifest, the weights file's name and checksum;
//                          in a training checkpoint also a "training" section (src/train/checkpoints.ts)
//   weights-<hash>.bin     all weights as one little-endian float32 buffer
//   optimizer-<hash>.bin   (training checkpoints) the optimiser's slots, named and checked in the training section
// Saving never leaves a half-written model: the data files go to new content-named files first, then model.json,
// the one file that names them, is replaced by rename (atomic on POSIX), then files it no longer names are removed.
// A crash at any point leaves either the old model or the new one loadable.
import { ToolkitError } from '../errors.js';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { WeightEntry } from './params.js';

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
  /** Training checkpoints only: the state `--resume` continues from (loaders of the model ignore it). */
  training?: unknown;
}

/** A content-named data file: data files are never overwritten, a new content gets a new name. */
const CONTENT_FILE = /^[a-z]+-[0-9a-f]{16}\.bin$/;

/** Writes `bytes` to `file` atomically: temporary file in the same directory, fsync, rename. */
export async function writeFileAtomic(file: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes `prefix-<first 16 hex of sha256>.bin` atomically (skipped when present: same name, same content). */
export async function writeContentFile(dir: string, prefix: string, bytes: Uint8Array): Promise<{ file: string; sha256: string }> {
  const sha256 = sha256Hex(bytes);
  const file = `${prefix}-${sha256.slice(0, 16)}.bin`;
  const exists = await fs.stat(path.join(dir, file)).then((st) => st.size === bytes.byteLength, () => false);
  if (!exists) await writeFileAtomic(path.join(dir, file), bytes);
  return { file, sha256 };
}

/** Reads a content file named by a model.json and checks its checksum. */
export async function readContentFile(dir: string, file: string, sha256: string, what = 'data'): Promise<Uint8Array> {
  const p = path.join(dir, path.basename(file));
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(p);
  } catch (e) {
    throw new ModelFileError(`${p}: cannot read ${what} (${(e as Error).message})`);
  }
  if (sha256Hex(bytes) !== sha256) throw new ModelFileError(`${p}: checksum mismatch, the ${what} file is corrupt`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function float32View(bytes: Uint8Array, where: string): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new ModelFileError(`${where}: size ${bytes.byteLength} is not a whole number of float32 values`);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
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

export async function saveModelFiles<C, E>(
  dir: string, kind: string, config: C, manifest: WeightEntry[], data: Float32Array, extra: E, options: SaveModelOptions = {},
): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (const f of options.files ?? []) await writeSideFile(dir, f);
  const { file, sha256 } = await writeContentFile(dir, 'weights', new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  const json: SavedModelJson<C, E> = { format: 'seq2seq-ts/model@1', kind, config, weights: { file, sha256, manifest }, extra };
  if (options.training !== undefined) json.training = options.training;
  const text = JSON.stringify(json, null, 1) + '\n';
  await writeFileAtomic(path.join(dir, MODEL_FILE), text);
  await syncDirectory(dir);
  await removeUnreferenced(dir, text);
}

/** Writes a side file unless the same bytes are already there (its name carries its hash, so it never changes). */
async function writeSideFile(dir: string, f: ModelSideFile): Promise<void> {
  if (f.name !== path.basename(f.name) || f.name.startsWith('.') || f.name === MODEL_FILE) throw new ModelFileError(`${f.name}: not a plain file name for a model side file`);
  const target = path.join(dir, f.name);
  const same = await fs.readFile(target).then((b) => sha256Hex(b) === sha256Hex(f.bytes), () => false);
  if (!same) await writeFileAtomic(target, f.bytes);
}

/** Removes content files model.json does not name, and temporary files left by killed writers. */
async function removeUnreferenced(dir: string, modelJsonText: string): Promise<void> {
  const ownTmp = `.tmp-${process.pid}-`;
  for (const f of await fs.readdir(dir)) {
    const stale = (CONTENT_FILE.test(f) && !modelJsonText.includes(`"${f}"`)) || (f.includes('.tmp-') && !f.includes(ownTmp));
    if (stale) await fs.rm(path.join(dir, f), { force: true });
  }
}

/** fsync of the directory, so that the rename itself survives a power cut (a killed process needs no more). */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r').catch(() => null);
  if (handle === null) return;
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic.
  } finally {
    await handle.close();
  }
}

export async function loadModelFiles<C, E>(dir: string, expectedKind?: string): Promise<{ json: SavedModelJson<C, E>; data: Float32Array }> {
  const jsonPath = path.join(dir, MODEL_FILE);
  let text: string;
  try {
    text = await fs.readFile(jsonPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const exists = await fs.stat(dir).then(() => true, () => false);
      throw new ModelFileError(exists ? `${dir}: not a model directory (no ${MODEL_FILE})` : `${dir}: no such model directory`);
    }
    throw new ModelFileError(`${jsonPath}: cannot read (${(e as Error).message})`);
  }
  let json: SavedModelJson<C, E>;
  try {
    json = JSON.parse(text) as SavedModelJson<C, E>;
  } catch (e) {
    throw new ModelFileError(`${jsonPath}: corrupt JSON (${(e as Error).message})`);
  }
  if (json?.format !== 'seq2seq-ts/model@1' || typeof json.weights?.file !== 'string' || !Array.isArray(json.weights.manifest)) {
    throw new ModelFileError(`${jsonPath}: not a seq2seq-ts model (format ${JSON.stringify(json?.format)})`);
  }
  if (expectedKind !== undefined && json.kind !== expectedKind) {
    throw new ModelFileError(`${jsonPath}: a "${json.kind}" model, expected "${expectedKind}"`);
  }
  const bytes = await readContentFile(dir, json.weights.file, json.weights.sha256, 'weights');
  return { json, data: float32View(bytes, path.join(dir, path.basename(json.weights.file))) };
}
