// Parsers for numeric command-line flags, shared by the `train` commands: each names the flag in its error.
import { InvalidArgumentError } from 'commander';

export const int = (name: string, min = 1) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
  return n;
};

export const num = (name: string, min = 0) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`${name} must be a number ≥ ${min}`);
  return n;
};

/** A dropout keep probability, in (0, 1]. */
export const keep = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!(n > 0 && n <= 1)) throw new InvalidArgumentError(`${name} must be a keep probability in (0, 1]`);
  return n;
};

/** Repeatable flag: collects every value given. */
export const collect = (v: string, previous: string[]): string[] => [...previous, v];
