import { z } from 'zod';
import { method, NoInput } from './schema.js';

/**
 * Backends the engine knows. tensorflow, wasm and cpu train in a Node worker; webgpu and webgl train
 * in the desktop app's hidden compute window. `auto` prefers tensorflow on CUDA → webgpu (a measured
 * probe on a hardware adapter) → tensorflow on CPU → wasm → cpu.
 */
export const BackendName = z.enum(['tensorflow', 'webgpu', 'webgl', 'wasm', 'cpu']);
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
  /** The engine user's documents folder (home when there is none): where exports go unless the user picks another. */
  documentsPath: z.string(),
  platform: z.string(),
  node: z.string(),
  tfjs: z.string(),
  backend: BackendChoice,
  /** True when the tensorflow backend (tfjs-node-gpu or tfjs-node) could load. */
  tensorflowAvailable: z.boolean(),
  /** Where GPU training in the browser engines happens: the desktop app's compute window, or nowhere (Node trains). */
  compute: z.object({
    mode: z.enum(['compute-window', 'node-only']),
    /** Backends a run may ask for on this host besides the Node ones. */
    backends: z.array(z.enum(['webgpu', 'webgl'])),
    /** One sentence for the UI. */
    note: z.string(),
  }),
});
export type AppInfo = z.infer<typeof AppInfo>;

/** A browser-engine backend as the compute window found it. */
export const ComputeAdapter = z.object({
  backend: z.enum(['webgpu', 'webgl']),
  available: z.boolean(),
  /** e.g. "WebGPU: nvidia ampere (…)"; null when unavailable. */
  label: z.string().nullable(),
  /** True for a software adapter (SwiftShader, WARP, llvmpipe): it works, but it is not a GPU. */
  software: z.boolean(),
  /** Why it is unavailable, or what it is. */
  reason: z.string(),
});
export type ComputeAdapter = z.infer<typeof ComputeAdapter>;

/** What GPU training this host offers, and what auto last decided. */
export const ComputeStatus = z.object({
  mode: z.enum(['compute-window', 'node-only']),
  /** Empty where there is no compute window (browser mode, CLI). */
  adapters: z.array(ComputeAdapter),
  /** auto's last measured decision this session, or null before the first auto run. */
  auto: z
    .object({
      backend: BackendName,
      device: z.string().nullable(),
      reason: z.string(),
    })
    .nullable(),
  note: z.string(),
});
export type ComputeStatus = z.infer<typeof ComputeStatus>;

export const appMethods = {
  'app.info': method('Version, library location and the compute backend in use.', NoInput, AppInfo),
  'app.compute': method('The GPU adapters the compute window finds (webgpu, webgl) and auto\'s last measured decision; opens a hidden compute window once per session.', NoInput, ComputeStatus),
  'app.ping': method('A cheap round trip, used to measure UI responsiveness.', NoInput, z.object({ now: z.number() })),
};
