import * as tf from '@tensorflow/tfjs';

/** Time spent in one kernel name over a profiled run. */
export interface KernelTime {
  kernel: string;
  calls: number;
  ms: number;
}

/** Runs `fn` under tf.profile and returns the time per kernel name, slowest first (wall time of each kernel on the active backend). */
export async function profileKernels(fn: () => tf.TensorContainer | void): Promise<{ totalMs: number; kernels: KernelTime[] }> {
  const start = performance.now();
  const info = await tf.profile(() => fn() as tf.TensorContainer);
  const totalMs = performance.now() - start;
  const byName = new Map<string, KernelTime>();
  for (const k of info.kernels) {
    const row = byName.get(k.name) ?? { kernel: k.name, calls: 0, ms: 0 };
    row.calls += 1;
    row.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    byName.set(k.name, row);
  }
  return { totalMs, kernels: [...byName.values()].sort((a, b) => b.ms - a.ms) };
}
