import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../helpers/backend.js';
import { Params } from '../../src/model/params.js';
import { Rng } from '../../src/random.js';
import { saveSnapshot, snapshotDir, listSnapshots } from '../../src/train/snapshots.js';

beforeAll(useTestBackend);

describe('evaluation snapshots', () => {
  it('keeps the newest N, removes only what it wrote, and lists those holding a model, oldest first', async () => {
    const out = mkdtempSync(join(tmpdir(), 'seq2seq-snapshots-'));
    const params = new Params(new Rng(1));
    params.create('w', [3], { kind: 'zeros' });
    const form = { kind: 'test', config: {}, extra: {} };
    const summary = { metric: 'loss', value: 1, metrics: { loss: 1 } };
    await saveSnapshot(out, 2, 100, form, params, summary);
    writeFileSync(join(snapshotDir(out, 100), 'notes.txt'), 'mine'); // a user's file in the oldest snapshot
    await saveSnapshot(out, 2, 200, form, params, summary);
    await saveSnapshot(out, 2, 300, form, params, summary);
    // step 100 was pruned: its model files are gone, the user's file (and so its folder) stays.
    expect(readdirSync(snapshotDir(out, 100))).toEqual(['notes.txt']);
    expect(existsSync(join(snapshotDir(out, 200), 'model.json'))).toBe(true);
    await saveSnapshot(out, 2, 400, form, params, summary);
    expect(existsSync(snapshotDir(out, 200))).toBe(false); // nothing foreign: the folder goes too
    expect(await listSnapshots(out)).toEqual([snapshotDir(out, 300), snapshotDir(out, 400)]); // the pruned one holds no model
    params.dispose();
  });
});
