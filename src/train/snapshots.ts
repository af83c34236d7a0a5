// The last N evaluations' weights, kept as plain model directories out/evaluations/step-NNNNNNN/ for checkpoint
// averaging (`translate average`), as OpenNMT-py's -keep_checkpoint and joeynmt's keep_best_ckpts do. Older ones
// are removed file by file from each directory's written-files list: nothing a user put there is deleted.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { MODEL_FILE } from '../model/modelFiles.js';
import { readWrittenList, WRITTEN_LIST } from '../model/atomicFiles.js';
import { saveBest, type SavedModelForm } from './checkpoints.js';
import type { Params } from '../model/params.js';

export const SNAPSHOT_DIR = 'evaluations';
const SNAPSHOT = /^step-(\d{7,})$/;

export function snapshotDir(out: string, step: number): string {
  return path.join(out, SNAPSHOT_DIR, `step-${String(step).padStart(7, '0')}`);
}

/** Saves the weights evaluated at `step` and keeps only the newest `keep` snapshots. */
export async function saveSnapshot(
  out: string,
  keep: number,
  step: number,
  form: SavedModelForm,
  params: Params,
  summary: { metric: string; value: number; metrics: Record<string, number> },
): Promise<void> {
  await saveBest(snapshotDir(out, step), form, params, { step, ...summary });
  const root = path.join(out, SNAPSHOT_DIR);
  const steps = (await fs.readdir(root))
    .map((name) => SNAPSHOT.exec(name))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  for (const old of steps.slice(keep)) await removeSnapshot(snapshotDir(out, old));
}

/** The snapshot directories under `out` that hold a model, oldest first. */
export async function listSnapshots(out: string): Promise<string[]> {
  const names = await fs.readdir(path.join(out, SNAPSHOT_DIR)).catch(() => [] as string[]);
  const dirs = names
    .filter((n) => SNAPSHOT.test(n))
    .sort()
    .map((n) => path.join(out, SNAPSHOT_DIR, n));
  const withModel = await Promise.all(
    dirs.map((d) =>
      fs.stat(path.join(d, MODEL_FILE)).then(
        () => true,
        () => false,
      ),
    ),
  );
  return dirs.filter((_, i) => withModel[i]);
}

/** Removes what the toolkit wrote in a snapshot directory, then the directory if nothing else is left. */
async function removeSnapshot(dir: string): Promise<void> {
  for (const f of await readWrittenList(dir)) await fs.rm(path.join(dir, f), { force: true });
  await fs.rm(path.join(dir, MODEL_FILE), { force: true });
  await fs.rm(path.join(dir, WRITTEN_LIST), { force: true });
  await fs.rmdir(dir).catch(() => undefined); // a foreign file keeps the directory
}
