import { z } from 'zod';
import { isMethodName, methods, type MethodName, type Output, type ParsedInput } from './contract.js';
import { ApiError, type Reply } from './errors.js';

/** One async function per contract method; what each host forwards to. */
export type Handlers = { [M in MethodName]: (input: ParsedInput<M>) => Promise<Output<M>> };

/** Turns zod issues into one readable sentence: `limit: expected number, received string`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`)
    .join('; ');
}

/**
 * Validates a request against the contract and runs its handler.
 * Never throws: every failure becomes `{ ok: false, error }` so a host keeps running.
 */
export async function dispatch(handlers: Handlers, name: unknown, input: unknown): Promise<Reply> {
  if (!isMethodName(name)) {
    const shown = typeof name === 'string' ? `"${name.slice(0, 80)}"` : typeof name;
    return { ok: false, error: { code: 'unknown_method', message: `Unknown method ${shown}.` } };
  }
  const spec = methods[name];
  const parsed = spec.input.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      error: { code: 'bad_request', message: `Invalid request for ${name}: ${describeIssues(parsed.error)}`, details: parsed.error.issues },
    };
  }
  try {
    const handler = handlers[name] as (input: unknown) => Promise<unknown>;
    const result = await handler(parsed.data);
    return { ok: true, result };
  } catch (err) {
    return { ok: false, error: toErrorBody(err) };
  }
}

/** Maps any thrown value to the contract's error body. */
export function toErrorBody(err: unknown): { code: ApiError['code']; message: string; details?: unknown } {
  if (err instanceof ApiError) {
    return { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message: `Internal error: ${message}` };
}
