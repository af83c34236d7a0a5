// A saved model is a directory:
//   model.json           config, vocabularies, tokenizers, weight manifest, the weights file's name and checksum
//   weights-<hash>.bin   all weights as one little-endian float32 buffer
// Saving never leaves a half-written model: the weights go to a new content-named file first, then model.json is
// replaced by rename (atomic on POSIX), then older weight files are removed. A crash at any point leaves either
// the old model or the new one loadable.
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
}

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

export async function saveModelFiles<C, E>(dir: string, kind: string, config: C, manifest: WeightEntry[], data: Float32Array, extra: E): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const weightsFile = `weights-${sha256.slice(0, 16)}.bin`;
  await writeFileAtomic(path.join(dir, weightsFile), bytes);
  const json: SavedModelJson<C, E> = { format: 'seq2seq-ts/model@1', kind, config, weights: { file: weightsFile, sha256, manifest }, extra };
  await writeFileAtomic(path.join(dir, MODEL_FILE), JSON.stringify(json, null, 1) + '\n');
  for (const f of await fs.readdir(dir)) {
    if (/^weights-[0-9a-f]{16}\.bin$/.test(f) && f !== weightsFile) await fs.rm(path.join(dir, f), { force: true });
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
  const weightsPath = path.join(dir, path.basename(json.weights.file));
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(weightsPath);
  } catch (e) {
    throw new ModelFileError(`${weightsPath}: cannot read weights (${(e as Error).message})`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== json.weights.sha256) throw new ModelFileError(`${weightsPath}: checksum mismatch, the weights file is corrupt`);
  if (bytes.byteLength % 4 !== 0) throw new ModelFileError(`${weightsPath}: size ${bytes.byteLength} is not a whole number of float32 values`);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { json, data };
}
