import { z } from 'zod';

/** One request the UI can make: its input schema and the schema of its result. */
export interface MethodSpec<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  input: I;
  output: O;
  /** One line for `--help` and the docs. */
  summary: string;
}

/** Declares a method; keeps the literal schema types for inference. */
export function method<I extends z.ZodType, O extends z.ZodType>(summary: string, input: I, output: O): MethodSpec<I, O> {
  return { summary, input, output };
}

/** An empty request body; `undefined` and `null` are accepted too so `call('x')` works. */
export const NoInput = z.preprocess((v) => (v === undefined || v === null ? {} : v), z.object({}).strict());
