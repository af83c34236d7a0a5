// Fuzzing model directories: a model.json whose manifest, config or any other field was changed (with its checksum
// kept, removed, or recomputed by a careless tool) or whose bytes were damaged either loads into a model that is
// whole, or is refused with a typed error naming model.json; never a TypeError, a tfjs error or a silent half-load.
import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../helpers/backend.js';
import { loadModelFiles, modelChecksum, ModelFileError } from '../../src/model/modelFiles.js';
import { Params } from '../../src/model/params.js';
import { Rng } from '../../src/random.js';
import { ToolkitError } from '../../src/errors.js';
import { Translator } from '../../src/translation/translator.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../../src/translation/seq2seq.js';
import { Vocabulary } from '../../src/data/text/vocabulary.js';
import { SpaceTokenizer } from '../../src/data/text/tokenizers.js';
import { fuzzRuns } from './settings.js';

beforeAll(useTestBackend);

const root = mkdtempSync(join(tmpdir(), 'fuzz-model-'));
let n = 0;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path into a JSON value, e.g. ['weights', 'manifest', 1, 'offset']. */
function paths(x: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out = [prefix];
  if (Array.isArray(x)) x.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (x !== null && typeof x === 'object')
    for (const [k, v] of Object.entries(x)) out.push(...paths(v, [...prefix, k]));
  return out;
}

/** One change to a JSON document: set a path to a value, or delete it. */
const value: fc.Arbitrary<Json> = fc.oneof(
  fc.integer({ min: -3, max: 1 << 20 }),
  fc.double(),
  fc.constantFrom(0, -0, 1.5, 1e300, -1, 2 ** 53, 'NaN'),
  fc.string({ maxLength: 6 }),
  fc.constantFrom('__proto__', 'constructor', '../x.bin', '/dev/zero', 'weights.bin'),
  fc.array(fc.integer({ min: -1, max: 64 }), { maxLength: 4 }),
  fc.constant(null),
  fc.boolean(),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);
const edit = fc.record({ pick: fc.nat(), value, remove: fc.boolean() });
// Translator.load builds the model its config describes before loading weights into it, so a config edited to
// hiddenSize 5000 (checksum dropped) spends seconds allocating before the manifest refuses it: sizes stay small here.
const smallValue: fc.Arbitrary<Json> = fc.oneof(
  fc.integer({ min: -3, max: 64 }),
  fc.double({ min: -2, max: 64 }),
  fc.constantFrom(0, -0, 1.5, 'NaN', 'gru', 'lstm', 'dot', 'none'),
  fc.string({ maxLength: 6 }),
  fc.constantFrom('__proto__', 'constructor', '../x.model', '/dev/zero'),
  fc.array(fc.integer({ min: -1, max: 8 }), { maxLength: 3 }),
  fc.constant(null),
  fc.boolean(),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer({ min: 0, max: 8 }), { maxKeys: 2 }),
);
const smallEdit = fc.record({ pick: fc.nat(), value: smallValue, remove: fc.boolean() });
const checksumPolicy = fc.constantFrom('keep', 'drop', 'recompute');

function apply(doc: Json, edits: { pick: number; value: Json; remove: boolean }[]): Json {
  const copy = JSON.parse(JSON.stringify(doc)) as Json;
  for (const e of edits) {
    const all = paths(copy).filter((p) => p.length > 0);
    if (all.length === 0) break;
    const p = all[e.pick % all.length]!;
    let node = copy as Record<string | number, Json>;
    for (const k of p.slice(0, -1)) node = node[k] as Record<string | number, Json>;
    const last = p[p.length - 1]!;
    if (e.remove && !Array.isArray(node)) delete node[last];
    else node[last] = e.value;
  }
  return copy;
}

/** A damaged copy of `dir`: model.json edited (checksum kept, dropped or recomputed) or its text cut or flipped. */
function damagedCopy(
  dir: string,
  doc: Json,
  edits: { pick: number; value: Json; remove: boolean }[],
  policy: string,
  textCut: number | null,
): string {
  const copy = join(root, `m${n++}`);
  cpSync(dir, copy, { recursive: true });
  const changed = apply(doc, edits) as Record<string, Json>;
  if (changed !== null && typeof changed === 'object' && !Array.isArray(changed)) {
    if (policy === 'drop') delete changed['checksum'];
    if (policy === 'recompute') {
      try {
        changed['checksum'] = modelChecksum(changed as never);
      } catch {
        // a document modelChecksum cannot take: leave it
      }
    }
  }
  let text = JSON.stringify(changed, null, 1);
  if (textCut !== null) text = text.slice(0, textCut % (text.length + 1));
  writeFileSync(join(copy, 'model.json'), text);
  return copy;
}

describe('model.json, mutated', () => {
  it('loadModelFiles + Params.load: a whole model, or a typed error naming model.json; weights untouched on refusal', async () => {
    const dir = join(root, 'toy');
    const before = tf.memory().numTensors;
    const params = new Params(new Rng(1));
    params.create('a', [2, 3], { kind: 'uniform', scale: 1 });
    params.create('b', [4], { kind: 'uniform', scale: 1 });
    params.create('c', [], { kind: 'uniform', scale: 1 });
    const { manifest, data } = params.serialize();
    const { saveModelFiles } = await import('../../src/model/modelFiles.js');
    await saveModelFiles(dir, 'toy', { size: 3, nested: { k: [1, 2] } }, manifest, data, { vocabulary: ['x', 'y'] });
    const doc = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as Json;
    await fc.assert(
      fc.asyncProperty(
        fc.array(edit, { minLength: 1, maxLength: 3 }),
        checksumPolicy,
        fc.option(fc.nat(), { freq: 5 }),
        async (edits, policy, cut) => {
          const copy = damagedCopy(dir, doc, edits, policy, cut);
          let loaded;
          try {
            loaded = await loadModelFiles(copy);
          } catch (e) {
            expect(e).toBeInstanceOf(ModelFileError);
            expect((e as Error).message).toContain(copy);
            expect((e as Error).message).not.toContain('\n');
            return;
          }
          const target = new Params(new Rng(2));
          target.create('a', [2, 3], { kind: 'zeros' });
          target.create('b', [4], { kind: 'zeros' });
          target.create('c', [], { kind: 'zeros' });
          try {
            target.load(loaded.json.weights.manifest, loaded.data, copy);
            // Loaded: every weight holds the values its manifest entry points at.
            for (const e of loaded.json.weights.manifest) {
              const v = target.get(e.name);
              expect(Array.from(v.dataSync())).toEqual(Array.from(loaded.data.subarray(e.offset, e.offset + v.size)));
            }
          } catch (e) {
            expect(e).toBeInstanceOf(ToolkitError);
            for (const [, v] of target.entries()) expect(Array.from(v.dataSync()).every((x) => x === 0)).toBe(true);
          } finally {
            target.dispose();
          }
        },
      ),
      fuzzRuns(200),
    );
    params.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('Translator.load: a translator that translates, or a ToolkitError (config, vocabularies, tokenizers mutated)', async () => {
    const dir = join(root, 'translator');
    const words = ['a', 'b', 'c'];
    const vocab = new Vocabulary(words);
    const tok = new SpaceTokenizer();
    const model = new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 8, embeddingSize: 4 }, vocab.size, vocab.size);
    const translator = new Translator(model, vocab, vocab, tok, tok);
    await translator.save(dir);
    translator.dispose();
    const doc = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as Json;
    await fc.assert(
      fc.asyncProperty(
        fc.array(smallEdit, { minLength: 1, maxLength: 2 }),
        fc.constantFrom('drop', 'recompute'),
        async (edits, policy) => {
          const copy = damagedCopy(dir, doc, edits, policy, null);
          let t: Translator;
          try {
            t = await Translator.load(copy);
          } catch (e) {
            if (!(e instanceof ToolkitError)) throw e;
            expect(e.message).not.toContain('\n');
            return;
          }
          try {
            const [r] = t.translate(['a b'], { beamSize: 1 });
            expect(typeof r!.text).toBe('string');
          } finally {
            t.dispose();
          }
        },
      ),
      fuzzRuns(60),
    );
  });
});
