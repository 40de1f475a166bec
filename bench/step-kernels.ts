// Run: [WASM_THREADS=n] npx tsx bench/step-kernels.ts [arch] [batch] [inputSize] [rounds]
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels, restoreWasmKernels } from '../src/backends/wasm-kernels/index.js';
import { profileKernels, type KernelTime } from '../src/backends/wasm-kernels/kernel-profile.js';
import { enableWasmThreadsInNode } from '../src/backends/wasm-kernels/node-threads.js';

/** Shape of the synthetic batch a benchmark trains on. */
export interface StepBenchmarkOptions {
  batch: number;
  inputSize: number;
  steps: number;
}

/** Times SGD-momentum training steps of `model` (softmax output) on the active backend: mean ms per step, and one profiled step per kernel. */
export async function benchmarkTrainingStep(model: tf.LayersModel, o: StepBenchmarkOptions): Promise<{ msPerStep: number; kernels: KernelTime[] }> {
  const classes = (model.outputs[0]?.shape.at(-1) as number | undefined) ?? 2;
  const x = tf.randomNormal([o.batch, o.inputSize, o.inputSize, 3]);
  const y = tf.tidy(() => tf.oneHot(tf.randomUniform([o.batch], 0, classes, 'int32'), classes));
  const optimizer = tf.train.momentum(0.01, 0.9);
  const step = () => {
    const loss = optimizer.minimize(() => tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor).mean(), true);
    loss?.dataSync();
    loss?.dispose();
  };
  step(); // warm-up: operator creation, optimizer slots
  const start = performance.now();
  for (let i = 0; i < o.steps; i++) {
    step();
  }
  const msPerStep = (performance.now() - start) / o.steps;
  const { kernels } = await profileKernels(step);
  tf.dispose([x, y]);
  optimizer.dispose();
  // tfjs 4.22's MomentumOptimizer.dispose forgets its parent's learning-rate scalar.
  tf.SGDOptimizer.prototype.dispose.call(optimizer);
  return { msPerStep, kernels };
}

async function main(): Promise<void> {
  const [arch = 'alexnet-small', batch = '64', size = '', rounds = '3'] = process.argv.slice(2);
  const { buildModel, ARCHS } = await import('../src/model/index.js');
  const inputSize = Number(size || ARCHS[arch as keyof typeof ARCHS].defaultInputSize);
  const wasmFile = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm');
  setWasmPaths(path.dirname(wasmFile) + path.sep);
  if (process.env.WASM_THREADS) {
    enableWasmThreadsInNode(Number(process.env.WASM_THREADS));
  }
  await tf.setBackend('wasm');
  const model = buildModel(arch as keyof typeof ARCHS, { numClasses: 10, inputSize });
  const options = { batch: Number(batch), inputSize, steps: 3 };
  const best: Record<string, { msPerStep: number; kernels: KernelTime[] }> = {};
  // Alternate the two kernel sets so that load from other processes hits both alike; keep each one's best round.
  for (let round = 0; round < Number(rounds); round++) {
    for (const mode of ['tfjs + Conv2DBackpropFilter', 'project kernels']) {
      restoreWasmKernels();
      registerWasmTrainingKernels(mode === 'project kernels' ? undefined : ['Conv2DBackpropFilter']);
      const result = await benchmarkTrainingStep(model, options);
      if (!best[mode] || result.msPerStep < (best[mode]?.msPerStep ?? Infinity)) {
        best[mode] = result;
      }
    }
  }
  const simd = String(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  console.log(`${arch}, batch ${batch}, ${inputSize} px, wasm (SIMD: ${simd}, threads: ${getThreadsCount()})`);
  for (const [mode, r] of Object.entries(best)) {
    console.log(`\n${mode}: ${r.msPerStep.toFixed(0)} ms/step`);
    for (const k of r.kernels.filter((k) => k.ms >= 1)) {
      console.log(`  ${k.kernel.padEnd(24)} ${String(k.calls).padStart(4)} calls ${k.ms.toFixed(1).padStart(8)} ms`);
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main();
}
