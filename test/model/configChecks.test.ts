import { describe, it, expect } from 'vitest';
import {
  ModelConfigError,
  MAX_SEED,
  builtFrom,
  finiteProblem,
  oneOfProblem,
  refuseProblems,
  seedProblem,
  wholeNumberProblem,
} from '../../src/model/configChecks.js';
import { isUserError } from '../../src/errors.js';

describe('model config checks', () => {
  it('wholeNumberProblem takes integers in range and names the field and value otherwise', () => {
    expect(wholeNumberProblem('hiddenSize', 1)).toBeNull();
    expect(wholeNumberProblem('layers', 100, 1, 100)).toBeNull();
    expect(wholeNumberProblem('hiddenSize', 0)).toBe('hiddenSize must be an integer ≥ 1, got 0');
    expect(wholeNumberProblem('layers', 101, 1, 100)).toBe('layers must be an integer from 1 to 100, got 101');
    for (const bad of [NaN, Infinity, 2.5, -1, '3', null, undefined])
      expect(wholeNumberProblem('n', bad)).toMatch(/^n must be an integer ≥ 1, got /);
    expect(wholeNumberProblem('n', '3')).toBe('n must be an integer ≥ 1, got "3"');
  });

  it('oneOfProblem, finiteProblem and seedProblem', () => {
    expect(oneOfProblem('mode', 'vector', ['vector', 'sequence'])).toBeNull();
    expect(oneOfProblem('mode', 'matrix', ['vector', 'sequence'])).toBe(
      'mode must be one of vector, sequence, got "matrix"',
    );
    expect(finiteProblem('forgetBias', -3.5)).toBeNull();
    for (const bad of [NaN, Infinity, '1'])
      expect(finiteProblem('forgetBias', bad)).toMatch(/^forgetBias must be a finite number/);
    for (const ok of [0, 1, MAX_SEED]) expect(seedProblem(ok)).toBeNull();
    for (const bad of [-1, 1.5, NaN, MAX_SEED + 1])
      expect(seedProblem(bad)).toBe(`seed must be an integer from 0 to ${MAX_SEED}, got ${bad}`);
  });

  it('cuts a long value short in the message', () => {
    expect(oneOfProblem('kind', 'x'.repeat(1000), ['a'])!.length).toBeLessThan(100);
  });

  it('refuseProblems throws the first problem as a user error; builtFrom names the model file', () => {
    expect(() => refuseProblems(null, null)).not.toThrow();
    expect(() => refuseProblems(null, 'a must be 1', 'b must be 2')).toThrow(new ModelConfigError('a must be 1'));
    try {
      refuseProblems('a must be 1');
    } catch (e) {
      expect(isUserError(e)).toBe(true);
    }
    expect(builtFrom('m/model.json', () => 7)).toBe(7);
    expect(() => builtFrom('m/model.json', () => refuseProblems('hiddenSize must be an integer ≥ 1, got 0'))).toThrow(
      'm/model.json: config: hiddenSize must be an integer ≥ 1, got 0',
    );
    // Anything else (a bug, another user error that names its own file) passes unchanged.
    const bug = new TypeError('x is undefined');
    expect(() =>
      builtFrom('m/model.json', () => {
        throw bug;
      }),
    ).toThrow(bug);
  });
});
