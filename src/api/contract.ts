import type { z } from 'zod';
import { appMethods } from './app.js';
import { classifyEvents, classifyMethods } from './classify.js';
import { appEvents } from './events.js';
import { datasetEvents, datasetMethods } from './datasets.js';
import { pretrainedEvents, pretrainedMethods } from './pretrained.js';
import { insightEvents, insightMethods } from './insight.js';
import { resultMethods } from './results.js';
import { runEvents, runMethods } from './runs.js';
import { torchBundleMethods } from './torch-bundle.js';
import type { MethodSpec } from './schema.js';

/** Every request the UI (or CLI, or a script) can make: name → input schema → result schema. */
export const methods = {
  ...appMethods,
  ...datasetMethods,
  ...runMethods,
  ...classifyMethods,
  ...resultMethods,
  ...torchBundleMethods,
  ...pretrainedMethods,
  ...insightMethods,
} satisfies Record<string, MethodSpec>;

/** Every event a client can receive, by name → payload schema. */
export const events = {
  ...appEvents,
  ...datasetEvents,
  ...runEvents,
  ...classifyEvents,
  ...pretrainedEvents,
  ...insightEvents,
} satisfies Record<string, z.ZodType>;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type EventName = keyof typeof events;
/** What a caller passes (before defaults are applied). */
export type Input<M extends MethodName> = z.input<Methods[M]['input']>;
/** What a handler receives (after validation and defaults). */
export type ParsedInput<M extends MethodName> = z.output<Methods[M]['input']>;
export type Output<M extends MethodName> = z.output<Methods[M]['output']>;
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;

/** All method names, for hosts that register one handler per method. */
export const methodNames = Object.keys(methods) as MethodName[];
export const eventNames = Object.keys(events) as EventName[];

/** True when `name` is a method of the contract. */
export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(methods, name);
}
