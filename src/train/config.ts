// Sectioned run configurations, shared by every `… train` command (translation and the heads): a config is a JSON
// object of sections (data, model, training, loss, validation…), each with documented defaults. A run's config is
// layered: defaults ← a JSON file (--config) ← command-line flags ← `--set section.path=value` expressions. Every
// layer is checked key by key against a schema; an unknown key or a value of the wrong type is a ConfigError naming
// where it came from (the file, "command-line flags", "--set …") and the key's full path.
import { readFile } from 'node:fs/promises';
import { ToolkitError } from '../errors.js';
import { sequenceLossProblem, type SequenceLossOptions } from '../loss/sequenceLoss.js';
import type { TrainingOptions } from './options.js';
import { SCHEDULE_KINDS } from './schedule.js';

export class ConfigError extends ToolkitError {
  override name = 'ConfigError';
}

/** A field whose check is not one of the simple types: `accepts` decides, `requirement` says what it must be. */
export class CustomField {
  constructor(
    readonly requirement: string,
    readonly accepts: (value: unknown) => boolean,
  ) {}
}

/**
 * What a key may hold: a simple type, a list of strings or integers, one of some strings, a custom check, or a nested
 * object with its own keys.
 */
export type FieldType =
  | 'string'
  | 'number'
  | 'integer'
  | 'boolean'
  | 'string[]'
  | 'integer[]'
  | readonly string[]
  | CustomField
  | { readonly [key: string]: FieldType };

/** Every field optional, nested objects included. */
export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** A config as written in a file, built from flags or by --set: every section and field optional. */
export type PartialConfig<C> = { [S in keyof C]?: DeepPartial<C[S]> };

/** The training section's schema: TrainingOptions (src/train/options.ts), the same for every task. */
export const TRAINING_SCHEMA: Record<keyof TrainingOptions, FieldType> = {
  optimizer: ['adam', 'sgd'],
  learningRate: 'number',
  momentum: 'number',
  clipNorm: 'number',
  steps: 'integer',
  schedule: {
    kind: SCHEDULE_KINDS,
    factor: 'number',
    window: 'integer',
    patience: 'integer',
    minLearningRate: 'number',
    finalShare: 'number',
  },
  evalEvery: 'integer',
  checkpointEvery: 'integer',
  logEvery: 'integer',
  metric: 'string',
  earlyStopping: { patience: 'integer', minDelta: 'number' },
  seed: 'integer',
  nonFinite: ['stop', 'skip'],
  maxSkips: 'integer',
  keepCheckpoints: 'integer',
};

/** The loss section's schema for models trained with the sequence loss (translation, the language model). */
export const SEQUENCE_LOSS_SCHEMA: Record<keyof Omit<SequenceLossOptions, 'steps'>, FieldType> = {
  softmax: ['full', 'sampled'],
  numSampled: 'integer',
  labelSmoothing: 'number',
  average: ['token', 'sequence'],
};

/** A sequence-loss section's problem (e.g. label smoothing with sampled softmax), as "loss: …", or null. */
export function sequenceLossSectionProblem(config: { loss?: Partial<SequenceLossOptions> }): string | null {
  if (config.loss === undefined) return null;
  const problem = sequenceLossProblem(config.loss);
  return problem === null ? null : `loss: ${problem}`;
}

/** A schema read off a default value: whatever fields it has, with their types (a model config's section). */
export function schemaOf(value: unknown): FieldType {
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string') return 'string';
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, schemaOf(v)]));
  return 'string';
}

export function isPlainObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/** Checks `value` against `type`; throws ConfigError "<where>: "<path>" …". */
export function checkField(value: unknown, type: FieldType, keyPath: string, where: string): void {
  const fail = (what: string): never => {
    throw new ConfigError(`${where}: "${keyPath}" ${what}, got ${JSON.stringify(value)}`);
  };
  if (type instanceof CustomField) {
    if (!type.accepts(value)) fail(type.requirement);
    return;
  }
  if (Array.isArray(type)) {
    if (!type.includes(value)) fail(`must be one of ${type.map((t) => JSON.stringify(t)).join(', ')}`);
    return;
  }
  if (typeof type === 'object') {
    if (!isPlainObject(value)) fail('must be an object');
    const fields = type as Readonly<Record<string, FieldType>>;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      // Own keys only: "constructor" or "__proto__" must not find Object.prototype's members.
      const sub = Object.hasOwn(fields, k) ? fields[k] : undefined;
      if (sub === undefined)
        throw new ConfigError(`${where}: unknown key "${keyPath}.${k}" (known: ${Object.keys(fields).join(', ')})`);
      checkField(v, sub, `${keyPath}.${k}`, where);
    }
    return;
  }
  switch (type) {
    case 'string':
      if (typeof value !== 'string') fail('must be a string');
      return;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) fail('must be a number');
      return;
    case 'integer':
      if (!Number.isInteger(value)) fail('must be an integer');
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail('must be true or false');
      return;
    case 'string[]':
      if (!Array.isArray(value) || !value.every((s) => typeof s === 'string')) fail('must be a list of strings');
      return;
    case 'integer[]':
      if (!Array.isArray(value) || !value.every((n) => Number.isInteger(n))) fail('must be a list of integers');
  }
}

/** Deep merge: plain objects merge key by key, anything else (arrays included) replaces; undefined values are skipped. */
export function mergeConfig<T>(base: T, override: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(override)) return (override === undefined ? base : override) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) {
    if (v === undefined) continue;
    out[k] = isPlainObject(out[k]) && isPlainObject(v) ? mergeConfig(out[k], v) : v;
  }
  return out as T;
}

/**
 * `section.path=value` → a nested object holding that one value (unchecked). The value is parsed as JSON when it
 * parses (numbers, true/false, lists, objects, quoted strings), else taken as a string: model.attention=bahdanau.
 */
export function parseSetExpression(expr: string): Record<string, unknown> {
  const eq = expr.indexOf('=');
  if (eq <= 0) throw new ConfigError(`--set ${expr}: expected section.key=value, e.g. model.hiddenSize=256`);
  const keys = expr.slice(0, eq).trim().split('.');
  if (keys.length < 2 || keys.some((k) => k.length === 0)) {
    throw new ConfigError(
      `--set ${expr}: the key must be section.key (e.g. training.steps), got "${expr.slice(0, eq)}"`,
    );
  }
  const raw = expr.slice(eq + 1);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  let node: unknown = value;
  for (let i = keys.length - 1; i >= 0; i--) node = { [keys[i]!]: node };
  return node as Record<string, unknown>;
}

/** Values set anywhere in a partial config, with their section.key paths (lists are values, not walked). */
export function leavesOf(config: unknown): [string, unknown][] {
  const out: [string, unknown][] = [];
  const walk = (x: unknown, prefix: string): void => {
    if (isPlainObject(x)) for (const [k, v] of Object.entries(x)) walk(v, prefix ? `${prefix}.${k}` : k);
    else out.push([prefix, x]);
  };
  walk(config, '');
  return out;
}

/** The value at a section.key path of a config (own keys only), or undefined. */
export function valueAt(config: unknown, keyPath: string): unknown {
  let node = config;
  for (const k of keyPath.split('.')) {
    if (!isPlainObject(node) || !Object.hasOwn(node, k)) return undefined;
    node = node[k];
  }
  return node;
}

/**
 * The section.key paths the layers set to another value than `saved` has, leaving out those `mayChange` allows: what
 * a resumed run would change. A key given again with the value the run already has is no change.
 */
export function changedKeys(saved: unknown, layers: readonly unknown[], mayChange: (key: string) => boolean): string[] {
  const changed = layers
    .flatMap(leavesOf)
    .filter(([k, v]) => !mayChange(k) && JSON.stringify(valueAt(saved, k)) !== JSON.stringify(v))
    .map(([k]) => k);
  return [...new Set(changed)];
}

/** `o` without its undefined fields (flags not given), so that a config file's values stand. */
export function pickDefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export interface SectionedConfigOptions<C> {
  /** Each section's schema (a nested object of field types). */
  sections: { readonly [S in keyof C]: FieldType };
  /** Each section's defaults: what a run that says nothing gets. */
  defaults: C;
  /** A problem across the fields of a config, partial or resolved (e.g. "loss: …"), or null. */
  problem?: (config: PartialConfig<C>) => string | null;
}

/** One task's configuration: its sections' schemas and defaults, and how layers are read, checked and merged. */
export class SectionedConfig<C extends object> {
  readonly sections: { readonly [S in keyof C]: FieldType };
  readonly defaults: C;
  private readonly problem: (config: PartialConfig<C>) => string | null;

  constructor(options: SectionedConfigOptions<C>) {
    this.sections = options.sections;
    this.defaults = options.defaults;
    this.problem = options.problem ?? (() => null);
  }

  get sectionNames(): string[] {
    return Object.keys(this.sections);
  }

  /** Checks a partial config (from a file, flags or --set); `where` names the source in messages. */
  check(config: unknown, where: string): PartialConfig<C> {
    const known = this.sectionNames.join(', ');
    if (!isPlainObject(config))
      throw new ConfigError(`${where}: a config must be a JSON object with sections ${known}`);
    const sections = this.sections as Readonly<Record<string, FieldType>>;
    for (const [section, value] of Object.entries(config)) {
      const schema = Object.hasOwn(sections, section) ? sections[section] : undefined;
      if (schema === undefined) throw new ConfigError(`${where}: unknown section "${section}" (known: ${known})`);
      checkField(value, schema, section, where);
    }
    const problem = this.problem(config as PartialConfig<C>);
    if (problem !== null) throw new ConfigError(`${where}: ${problem}`);
    return config as PartialConfig<C>;
  }

  /** Reads and checks a JSON config file. */
  async readFile(file: string): Promise<PartialConfig<C>> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`${file}: not valid JSON (${(e as Error).message})`);
    }
    return this.check(json, file);
  }

  /** `section.path=value` → a checked partial config holding that one value. */
  parseSet(expr: string): PartialConfig<C> {
    return this.check(parseSetExpression(expr), `--set ${expr}`);
  }

  /** Defaults ← each layer in order (file, flags, --set), checked as a whole for cross-field problems. */
  resolve(layers: readonly PartialConfig<C>[]): C {
    const merged = layers.reduce<C>((acc, layer) => mergeConfig(acc, layer), this.defaults);
    const problem = this.problem(merged);
    if (problem !== null) throw new ConfigError(problem);
    return merged;
  }
}

/** What a run saves in its checkpoint as its configuration (model.json's training.config): the effective config. */
export interface SavedRunConfig<C> {
  config: C;
}
