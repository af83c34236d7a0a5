import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync, readFileSync, rmSync, watch, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  saveModelFiles,
  loadModelFiles,
  readContentFile,
  checkManifest,
  checkModelJson,
  modelChecksum,
  ModelFileError,
  namedFiles,
  namedFilesOf,
  withSavedWeights,
} from '../../src/model/modelFiles.js';
import { writeContentFile, readWrittenList, WRITTEN_LIST } from '../../src/model/atomicFiles.js';
import { readCheckpoint } from '../../src/train/checkpoints.js';
import * as tf from '@tensorflow/tfjs-core';
import { Params } from '../../src/model/params.js';
import { Rng } from '../../src/random.js';
import { useTestBackend } from '../helpers/backend.js';

const root = resolve(import.meta.dirname, '../..');
const tmp = (): string => mkdtempSync(join(tmpdir(), 'seq2seq-ckpt-'));

/**
 * Runs the checkpoint writer from `start` and kills it (SIGKILL) after its second completed save: `share` of one
 * save's duration later (measured between the first two saves, so kills land at the same points of a save on a fast
 * machine as on a slow one), or, with 'in-write', as soon as a temporary file appears (inside a file write).
 */
function writeThenKill(dir: string, start: number, when: number | 'in-write'): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'test/train/fixtures/checkpointWriter.ts'), dir, String(start)],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
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
    child.on('exit', (_code, signal) =>
      signal === 'SIGKILL' ? done(lastSaved) : fail(new Error(`writer exited without being killed: ${stderr}`)),
    );
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

describe('saving where a file is', () => {
  it('is one line naming the path (average --out FILE ended in an internal error with a Node trace)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'model-files-'));
    writeFileSync(join(root, 'taken'), 'mine');
    await expect(
      saveModelFiles(join(root, 'taken'), 'toy', {}, [{ name: 'w', shape: [1], offset: 0 }], Float32Array.of(1), {}),
    ).rejects.toThrow(`${join(root, 'taken')}: cannot save the model: already exists and is not a directory`);
    expect(readFileSync(join(root, 'taken'), 'utf8')).toBe('mine');
  });
});

describe('clean-up removes only files the writer wrote', () => {
  it('foreign files that look like data or temporary files survive saves (they used to be removed by name)', async () => {
    const dir = tmp();
    const foreign = ['notes-0123456789abcdef.bin', 'x.tmp-1', 'weights-ffffffffffffffff.bin'];
    for (const f of foreign) writeFileSync(join(dir, f), 'mine');
    await saveModelFiles(dir, 'toy', {}, [{ name: 'w', shape: [1], offset: 0 }], Float32Array.of(1), {});
    await saveModelFiles(dir, 'toy', {}, [{ name: 'w', shape: [1], offset: 0 }], Float32Array.of(2), {});
    const files = readdirSync(dir);
    for (const f of foreign) expect(files).toContain(f);
    // Of the writer's own data files only the one model.json names is left.
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(files.filter((f) => f.startsWith('weights-') && !foreign.includes(f))).toEqual([json.weights.file]);
  });

  it('a model.json the toolkit did not write is never replaced: saving there is refused and writes nothing', async () => {
    for (const text of ['{"mine": true}\n', 'not json at all\n', '{"format": "someone-else@2"}\n']) {
      const dir = tmp();
      writeFileSync(join(dir, 'model.json'), text);
      await expect(
        saveModelFiles(dir, 'toy', {}, [{ name: 'w', shape: [1], offset: 0 }], Float32Array.of(1), {}),
      ).rejects.toThrow(
        new ModelFileError(
          `${join(dir, 'model.json')}: not a model this toolkit wrote; it is left as it is (choose another directory)`,
        ),
      );
      expect(readFileSync(join(dir, 'model.json'), 'utf8')).toBe(text);
      expect(readdirSync(dir)).toEqual(['model.json']);
    }
    // Its own model.json it replaces, as every checkpoint does.
    const own = tmp();
    await saveModelFiles(own, 'toy', {}, [{ name: 'w', shape: [1], offset: 0 }], Float32Array.of(1), {});
    await saveModelFiles(own, 'toy', {}, [{ name: 'w', shape: [1], offset: 0 }], Float32Array.of(2), {});
  });

  it('a directory written before the written-files list existed: its old data files go once no longer named', async () => {
    const dir = tmp();
    await saveModelFiles(dir, 'toy', {}, [{ name: 'w', shape: [1], offset: 0 }], Float32Array.of(1), {});
    const old = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).weights.file as string;
    rmSync(join(dir, WRITTEN_LIST));
    await saveModelFiles(dir, 'toy', {}, [{ name: 'w', shape: [1], offset: 0 }], Float32Array.of(2), {});
    expect(readdirSync(dir)).not.toContain(old);
    expect(Array.from((await loadModelFiles(dir)).data)).toEqual([2]);
  });

  it('a name cut short on the list (a kill mid-append) is ignored, never removed', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'weights'), 'foreign');
    writeFileSync(join(dir, WRITTEN_LIST), 'weights');
    expect(await readWrittenList(dir)).toEqual([]);
    await saveModelFiles(dir, 'toy', {}, [{ name: 'w', shape: [1], offset: 0 }], Float32Array.of(1), {});
    expect(readdirSync(dir)).toContain('weights');
  });
});

describe('model.json is validated before anything is built from it', () => {
  const manifest = [
    { name: 'a', shape: [2, 2], offset: 0 },
    { name: 'b', shape: [3], offset: 4 },
  ];
  const data = Float32Array.of(1, 2, 3, 4, 5, 6, 7);
  /** A saved model whose model.json is then changed by `edit` (and, with `rehash`, given a matching checksum, as a careless tool would not). */
  async function damaged(
    edit: (json: Record<string, any>) => void,
    options: { dropChecksum?: boolean } = {},
  ): Promise<string> {
    const dir = tmp();
    await saveModelFiles(dir, 'toy', { size: 2 }, manifest, data, { vocabulary: ['x'] });
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    edit(json);
    if (options.dropChecksum) delete json.checksum;
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    return dir;
  }

  it('loads an intact model, and an older one without a checksum', async () => {
    const dir = await damaged(() => undefined);
    expect(Array.from((await loadModelFiles(dir)).data)).toEqual(Array.from(data));
    const older = await damaged(() => undefined, { dropChecksum: true });
    expect((await loadModelFiles(older)).json.checksum).toBeUndefined();
  });

  it('swapped offsets (weights file intact) are caught by the checksum over the manifest (they used to load silently)', async () => {
    const dir = await damaged((j) => {
      j.weights.manifest[1].offset = 0;
      j.weights.manifest[0].offset = 3;
    });
    await expect(loadModelFiles(dir)).rejects.toThrow(
      /model\.json: checksum mismatch: config, weights manifest or vocabularies were changed/,
    );
    const config = await damaged((j) => (j.config.size = 3));
    await expect(loadModelFiles(config)).rejects.toThrow(/checksum mismatch/);
    const vocabulary = await damaged((j) => (j.extra.vocabulary = ['y']));
    await expect(loadModelFiles(vocabulary)).rejects.toThrow(/checksum mismatch/);
  });

  const cases: [string, (j: Record<string, any>) => void, RegExp][] = [
    [
      'fractional offset',
      (j) => (j.weights.manifest[1].offset = 3.5),
      /manifest\[1\] \("b"\) offset must be a non-negative integer, got 3.5/,
    ],
    ['negative offset', (j) => (j.weights.manifest[1].offset = -1), /offset must be a non-negative integer/],
    [
      'offset as a string',
      (j) => (j.weights.manifest[1].offset = '4'),
      /offset must be a non-negative integer, got "4"/,
    ],
    // With a checksum the edit is caught by it first; without, by the bound (the weights file's size).
    [
      'out of bounds',
      (j) => (j.weights.manifest[1].offset = 5),
      /checksum mismatch|\("b"\) reaches value 8 of a weights file with 7/,
    ],
    ['overlapping', (j) => (j.weights.manifest[1].offset = 3), /weights "a" and "b" overlap/],
    [
      'shape of strings',
      (j) => (j.weights.manifest[0].shape = ['2', 2]),
      /shape must be a list of at most 8 non-negative integers, got \["2",2\]/,
    ],
    ['huge shape', (j) => (j.weights.manifest[0].shape = [1e9, 1e9]), /does not fit in the weights file/],
    ['shape not a list', (j) => (j.weights.manifest[0].shape = 4), /shape must be a list/],
    ['duplicate name', (j) => (j.weights.manifest[1].name = 'a'), /\("a"\) appears twice/],
    ['entry not an object', (j) => (j.weights.manifest[1] = 7), /manifest\[1\] must be an object/],
    ['manifest not a list', (j) => (j.weights.manifest = {}), /"weights.manifest" must be a list/],
    [
      'weights file outside the directory',
      (j) => (j.weights.file = '../elsewhere.bin'),
      /"weights.file" must be a plain file name inside the model directory/,
    ],
    ['config not an object', (j) => (j.config = 'big'), /"config" must be an object/],
    ['kind not a string', (j) => (j.kind = 3), /"kind" must be a string/],
    ['bad checksum field', (j) => (j.checksum = 12), /"checksum" must be 64 hexadecimal digits/],
  ];
  for (const [what, edit, message] of cases) {
    it(`refuses a manifest or config with ${what}, naming model.json (with or without a checksum)`, async () => {
      for (const dropChecksum of what === 'bad checksum field' ? [false] : [false, true]) {
        const dir = await damaged(edit, { dropChecksum });
        const e = await loadModelFiles(dir).then(
          () => null,
          (err: unknown) => err,
        );
        expect(e).toBeInstanceOf(ModelFileError);
        expect((e as Error).message).toMatch(message);
        if (dropChecksum) expect((e as Error).message).not.toMatch(/checksum/);
        expect((e as Error).message).toContain(join(dir, 'model.json'));
      }
    });
  }

  it('checkManifest takes the float32 count of the weights file as its bound', () => {
    expect(() => checkManifest(manifest, 7, 'm')).not.toThrow();
    expect(() => checkManifest(manifest, 6, 'm')).toThrow(/reaches value 7 of a weights file with 6/);
  });

  it('the checksum covers format, kind, config, weights and extra but not the training section', () => {
    const json = {
      format: 'seq2seq-ts/model@1' as const,
      kind: 'toy',
      config: {},
      weights: { file: 'w.bin', sha256: '0'.repeat(64), manifest: [] },
      extra: {},
    };
    const sum = modelChecksum(json);
    expect(modelChecksum({ ...json, training: { step: 3 } } as typeof json)).toBe(sum);
    expect(modelChecksum({ ...json, kind: 'other' })).not.toBe(sum);
    expect(() => checkModelJson({ ...json, checksum: sum }, 'm.json')).not.toThrow();
  });
});

describe('namedFiles', () => {
  it('names the plain file names written beside a sha256, outside the training section, and nothing else', () => {
    const json = {
      weights: { file: 'weights-ab.bin', sha256: 'x', manifest: [] },
      extra: {
        source: { kind: 'sentencepiece', model: 'sentencepiece-12.model', sha256: 'y' },
        notes: 'notes.txt',
        nested: [
          { file: '../escape.bin', sha256: 'z' },
          { file: 'sub/dir.bin', sha256: 'z' },
        ],
      },
      training: { optimizer: { file: 'optimizer-1.bin', sha256: 'w' } },
    };
    expect([...namedFiles(json)].sort()).toEqual(['sentencepiece-12.model', 'weights-ab.bin']);
    expect(namedFilesOf('{not json')).toEqual(new Set());
    expect(namedFilesOf(JSON.stringify(json)).has('notes.txt')).toBe(false);
  });
});

describe('withSavedWeights', () => {
  const build = (width: number) => {
    const params = new Params(new Rng(3));
    params.create('layer/W', [2, width], { kind: 'uniform', scale: 0.5 });
    params.create('layer/b', [width], { kind: 'zeros' });
    return { params, dispose: () => params.dispose() };
  };

  it('loads the saved weights into a freshly built model, and disposes it when they do not fit (no tensor leaks)', async () => {
    await useTestBackend();
    const saved = build(4);
    const { manifest, data } = saved.params.serialize();
    const json = { weights: { file: 'w.bin', sha256: '', manifest } };
    const before = tf.memory().numTensors;
    expect(() => withSavedWeights(build(5), json, data, 'here/model.json')).toThrow(/here\/model\.json/);
    expect(tf.memory().numTensors).toBe(before);
    const ok = withSavedWeights(build(4), json, data, 'here/model.json');
    expect(Array.from(ok.params.serialize().data)).toEqual(Array.from(data));
    ok.dispose();
    saved.dispose();
  });
});
