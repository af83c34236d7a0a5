import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { saveModelFiles, loadModelFiles, writeContentFile, readContentFile } from '../../src/model/checkpoint.js';
import { readCheckpoint } from '../../src/train/checkpoints.js';

const root = resolve(import.meta.dirname, '../..');
const tmp = (): string => mkdtempSync(join(tmpdir(), 'seq2seq-ckpt-'));

/**
 * Runs the checkpoint writer from `start` and kills it (SIGKILL) after its second completed save: `share` of one
 * save's duration later (measured between the first two saves, so kills land at the same points of a save on a fast
 * machine as on a slow one), or, with 'in-write', as soon as a temporary file appears (inside a file write).
 */
function writeThenKill(dir: string, start: number, when: number | 'in-write'): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/train/fixtures/checkpointWriter.ts'), dir, String(start)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let lastSaved = -1;
    const savedAt: number[] = [];
    let stderr = '';
    let watcher: FSWatcher | undefined;
    const kill = (): void => {
      watcher?.close();
      child.kill('SIGKILL');
    };
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/saved (\d+)/g)) {
        savedAt.push(performance.now());
        if (savedAt.length === 2) {
          if (when === 'in-write') watcher = watch(dir, (_event, name) => name?.includes('.tmp-') && kill());
          else setTimeout(kill, when * (savedAt[1]! - savedAt[0]!));
        }
        lastSaved = Number(m[1]);
      }
    });
    child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? done(lastSaved) : fail(new Error(`writer exited without being killed: ${stderr}`))));
  });
}

describe('checkpoint files', () => {
  it('a checkpoint writer killed at any moment leaves the last complete checkpoint (or the one in progress) loadable and verified', async () => {
    const dir = tmp();
    let next = 1;
    let midWrite = 0;
    // Kills inside file writes, and spread over a save, so that they land in the weights write, the optimiser write,
    // model.json's rename and the clean-up.
    for (const when of ['in-write', 0.03, 'in-write', 0.3, 0.65, 'in-write', 0.85] as const) {
      const lastReported = await writeThenKill(dir, next, when);
      const ck = await readCheckpoint(dir);
      // The loaded step is the last reported save, or the next one if the kill came after its rename but before the report.
      expect([lastReported, lastReported + 1]).toContain(ck.training.step);
      expect(ck.weights.every((v) => v === ck.training.step)).toBe(true);
      expect(ck.optimizer.every((v) => v === ck.training.step)).toBe(true);
      next = ck.training.step + 1;
      if (readdirSync(dir).some((f) => f.includes('.tmp-'))) midWrite++;
    }
    // Most kills landed inside a file write (a temporary file was left): the test exercises what it claims to.
    expect(midWrite).toBeGreaterThanOrEqual(2);
    // Leftover temporary files of killed writers are removed by the next save.
    const leftovers = readdirSync(dir).filter((f) => f.includes('.tmp-'));
    const lastReported = await writeThenKill(dir, next, 2);
    expect(lastReported).toBeGreaterThanOrEqual(next);
    const after = readdirSync(dir);
    for (const f of leftovers) expect(after).not.toContain(f);
  }, 120_000);

  it('a corrupt or missing data file is reported by name, never loaded', async () => {
    const dir = tmp();
    await saveModelFiles(dir, 'toy', { a: 1 }, [{ name: 'w', shape: [2], offset: 0 }], Float32Array.of(1, 2), {});
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    writeFileSync(join(dir, json.weights.file), Buffer.from(Float32Array.of(1, 3).buffer));
    await expect(loadModelFiles(dir)).rejects.toThrow(new RegExp(`${json.weights.file}: checksum mismatch`));
    await expect(readCheckpoint(dir)).rejects.toThrow(/checksum mismatch/);
  });

  it('a plain model (no training section) is loadable but not resumable', async () => {
    const dir = tmp();
    await saveModelFiles(dir, 'toy', {}, [{ name: 'w', shape: [1], offset: 0 }], Float32Array.of(1), {});
    await expect(readCheckpoint(dir)).rejects.toThrow(/without training state, so it cannot be resumed/);
  });

  it('content files are named by their checksum, written once and verified on reading', async () => {
    const dir = tmp();
    const a = await writeContentFile(dir, 'optimizer', Uint8Array.of(1, 2, 3, 4));
    const b = await writeContentFile(dir, 'optimizer', Uint8Array.of(1, 2, 3, 4));
    expect(a).toEqual(b);
    expect(a.file).toMatch(/^optimizer-[0-9a-f]{16}\.bin$/);
    expect(Array.from(await readContentFile(dir, a.file, a.sha256))).toEqual([1, 2, 3, 4]);
    await expect(readContentFile(dir, a.file, '0'.repeat(64))).rejects.toThrow(/checksum mismatch/);
  });

  it('saving removes data files model.json no longer names', async () => {
    const dir = tmp();
    await saveModelFiles(dir, 'toy', {}, [{ name: 'w', shape: [1], offset: 0 }], Float32Array.of(1), {});
    await saveModelFiles(dir, 'toy', {}, [{ name: 'w', shape: [1], offset: 0 }], Float32Array.of(2), {});
    expect(readdirSync(dir).filter((f) => f.endsWith('.bin'))).toHaveLength(1);
    expect(Array.from((await loadModelFiles(dir)).data)).toEqual([2]);
  });
});
