// Range checks for the fields of a model's config, shared by every model (Seq2Seq, the heads, the cells they all
// use), so that a field out of range is refused by name before any weight is made: a hidden size of 0 used to reach
// OpenBLAS as an illegal argument, an unknown cell kind a shape error inside a product, a NaN seed a silent seed of 0.
// Each returns the problem as "<field> must …, got …" (null when the value is fine); the model throws it with its
// own error class (ModelConfigError for the heads, Seq2SeqConfigError for translation).
import { ToolkitError } from '../errors.js';

/** A model config with a field out of range (a user's config file, --set, or a model.json). */
export class ModelConfigError extends ToolkitError {
  override name = 'ModelConfigError';
}

/** The largest seed: seeds are 32-bit unsigned integers (Rng). */
export const MAX_SEED = 0xffffffff;

/** `name` must be a whole number from min to max (no upper bound by default). */
export function wholeNumberProblem(name: string, v: unknown, min = 1, max = Infinity): string | null {
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return null;
  const range = max === Infinity ? `≥ ${min}` : `from ${min} to ${max}`;
  return `${name} must be an integer ${range}, got ${shown(v)}`;
}

/** `name` must be one of `choices`. */
export function oneOfProblem(name: string, v: unknown, choices: readonly unknown[]): string | null {
  if (choices.includes(v)) return null;
  return `${name} must be one of ${choices.join(', ')}, got ${shown(v)}`;
}

/** `name` must be a finite number. */
export function finiteProblem(name: string, v: unknown): string | null {
  return typeof v === 'number' && Number.isFinite(v) ? null : `${name} must be a finite number, got ${shown(v)}`;
}

/** A seed must be an integer from 0 to MAX_SEED (Rng would read NaN as 0 and 1.5 as 1). */
export function seedProblem(v: unknown, name = 'seed'): string | null {
  return wholeNumberProblem(name, v, 0, MAX_SEED);
}

/** Throws a ModelConfigError with the first problem found, if any. */
export function refuseProblems(...problems: (string | null)[]): void {
  const first = problems.find((p) => p !== null);
  if (first !== undefined && first !== null) throw new ModelConfigError(first);
}

/**
 * Builds a model from the config saved at `where` (a model.json): a config field out of range is reported as
 * "<where>: config: <field> must …", naming the file the user has to look at.
 */
export function builtFrom<T>(where: string, build: () => T): T {
  try {
    return build();
  } catch (e) {
    if (e instanceof ModelConfigError) throw new ModelConfigError(`${where}: config: ${e.message}`);
    throw e;
  }
}

/** A value as a message shows it: short, with strings quoted. */
function shown(v: unknown): string {
  const text = typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v));
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
