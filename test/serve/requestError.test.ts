// RequestError: what the server answers a refused request with (status, message, field).
import { describe, it, expect } from 'vitest';
import { RequestError } from '../../src/serve/requestError.js';
import { ToolkitError } from '../../src/errors.js';

describe('RequestError', () => {
  it('carries the HTTP status, the message and the field at fault', () => {
    const e = new RequestError(400, 'nBest: 4 is larger than beam 2', 'nBest');
    expect(e.status).toBe(400);
    expect(e.message).toBe('nBest: 4 is larger than beam 2');
    expect(e.field).toBe('nBest');
    expect(e.name).toBe('RequestError');
    expect(String(e)).toBe('RequestError: nBest: 4 is larger than beam 2');
  });

  it('has no field when none is given (the body then names none)', () => {
    const e = new RequestError(503, 'the models are still loading');
    expect(e.field).toBeUndefined();
    expect('field' in e && e.field !== undefined).toBe(false);
    const body = JSON.parse(JSON.stringify({ error: e.message, field: e.field }));
    expect(body).toEqual({ error: 'the models are still loading' });
  });

  it('is a ToolkitError and an Error, with a stack, so that handlers can tell it from bugs', () => {
    const e = new RequestError(404, 'no model "x"', 'model');
    expect(e).toBeInstanceOf(RequestError);
    expect(e).toBeInstanceOf(ToolkitError);
    expect(e).toBeInstanceOf(Error);
    expect(e.stack).toContain('RequestError: no model "x"');
    expect(() => {
      throw e;
    }).toThrow(RequestError);
  });
});
