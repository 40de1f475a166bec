import { z } from 'zod';
import { method, NoInput } from './schema.js';

/** Backends the engine knows, in the order `auto` prefers them. */
export const BackendName = z.enum(['tensorflow', 'wasm', 'cpu']);
export type BackendName = z.infer<typeof BackendName>;

/** What one backend probe found. */
export const BackendProbe = z.object({
  name: BackendName,
  available: z.boolean(),
  /** Which package or build provides it, e.g. "@tensorflow/tfjs-node-gpu" or "tfjs-backend-wasm (simd)". */
  provider: z.string().nullable(),
  /** Why it is (not) available, in words a user can act on. */
  reason: z.string(),
  device: z.string().nullable(),
  threads: z.number().int().nullable(),
});
export type BackendProbe = z.infer<typeof BackendProbe>;

/** The backend a run would use now, and why. */
export const BackendChoice = z.object({
  name: BackendName,
  provider: z.string().nullable(),
  device: z.string().nullable(),
  threads: z.number().int().nullable(),
  reason: z.string(),
  probes: z.array(BackendProbe),
});
export type BackendChoice = z.infer<typeof BackendChoice>;

export const AppInfo = z.object({
  name: z.string(),
  version: z.string(),
  host: z.enum(['electron', 'server', 'cli']),
  libraryPath: z.string(),
  platform: z.string(),
  node: z.string(),
  tfjs: z.string(),
  backend: BackendChoice,
  /** True when the tensorflow backend (tfjs-node-gpu or tfjs-node) could load. */
  tensorflowAvailable: z.boolean(),
});
export type AppInfo = z.infer<typeof AppInfo>;

export const appMethods = {
  'app.info': method('Version, library location and the compute backend in use.', NoInput, AppInfo),
  'app.ping': method('A cheap round trip, used to measure UI responsiveness.', NoInput, z.object({ now: z.number() })),
};
