import { describe, expect, it } from 'vitest';
import { methodNames, methods } from '../../../src/api/contract.js';
import { dispatch, type Handlers } from '../../../src/api/dispatch.js';
import { ApiError } from '../../../src/api/errors.js';

// Handlers that echo or fail on purpose, to test the boundary itself.
const handlers = {
  'app.ping': async () => ({ now: 42 }),
  'app.info': async () => {
    throw new ApiError('unavailable', 'No backend today.');
  },
} as unknown as Handlers;

describe('dispatch', () => {
  it('runs a valid request', async () => {
    expect(await dispatch(handlers, 'app.ping', {})).toEqual({ ok: true, result: { now: 42 } });
  });

  it('accepts a missing body for methods without input', async () => {
    expect(await dispatch(handlers, 'app.ping', undefined)).toEqual({ ok: true, result: { now: 42 } });
  });

  it('refuses an unknown method with a clear message', async () => {
    const reply = await dispatch(handlers, 'app.explode', {});
    expect(reply).toEqual({ ok: false, error: { code: 'unknown_method', message: 'Unknown method "app.explode".' } });
  });

  it('refuses names that are not strings, and prototype keys', async () => {
    expect((await dispatch(handlers, 17, {})).ok).toBe(false);
    const proto = await dispatch(handlers, '__proto__', {});
    expect(proto).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
    expect((await dispatch(handlers, 'constructor', {})).ok).toBe(false);
  });

  it('refuses malformed input and says which field is wrong', async () => {
    const reply = await dispatch(handlers, 'app.ping', { surprise: true });
    expect(reply.ok).toBe(false);
    if (!reply.ok) {
      expect(reply.error.code).toBe('bad_request');
      expect(reply.error.message).toMatch(/Invalid request for app\.ping/);
      expect(reply.error.message).toMatch(/surprise/);
    }
    expect(await dispatch(handlers, 'app.ping', 'a string')).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  });

  it('turns a service error into its code and message', async () => {
    expect(await dispatch(handlers, 'app.info', {})).toEqual({ ok: false, error: { code: 'unavailable', message: 'No backend today.' } });
  });

  it('turns an unexpected throw into an internal error without crashing', async () => {
    const broken = { 'app.ping': async () => { throw new TypeError('boom'); } } as unknown as Handlers;
    expect(await dispatch(broken, 'app.ping', {})).toEqual({ ok: false, error: { code: 'internal', message: 'Internal error: boom' } });
  });

  it('declares every method once, each with a summary and schemas', () => {
    expect(new Set(methodNames).size).toBe(methodNames.length);
    for (const name of methodNames) {
      expect(methods[name].summary.length).toBeGreaterThan(5);
      expect(name).toMatch(/^[a-z]+\.[a-zA-Z]+$/);
    }
  });
});
