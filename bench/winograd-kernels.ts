// Run: npx tsx bench/winograd-kernels.ts [small|alexnet] [reps]
// Times each stride-1 convolution layer of alexnet-small (32 px, batch 64) or alexnet (224 px, batch 1
// and 64) on wasm: the forward convolution (+ bias, ReLU) and the filter gradient, by the Winograd
// kernels and by the backend's direct path (SIMD module off), alternating, and prints both medians,
// the speed-up, and the largest difference between the two results (relative to the largest value).
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels, setSimdKernelsEnabled } from '../src/backends/wasm-kernels/index.js';

type Shape4 = [number, number, number, number];
interface Layer {
  name: string;
  x: Shape4;
  filter: Shape4;
}

const SMALL: Layer[] = [
  { name: 'conv1', x: [64, 32, 32, 3], filter: [5, 5, 3, 32] },
  { name: 'conv2', x: [64, 15, 15, 32], filter: [5, 5, 32, 64] },
  { name: 'conv3', x: [64, 7, 7, 64], filter: [3, 3, 64, 96] },
  { name: 'conv4', x: [64, 7, 7, 96], filter: [3, 3, 96, 96] },
  { name: 'conv5', x: [64, 7, 7, 96], filter: [3, 3, 96, 64] },
];
const alexnet = (batch: number): Layer[] => [
  { name: `conv2 b${batch}`, x: [batch, 27, 27, 64], filter: [5, 5, 64, 192] },
  { name: `conv3 b${batch}`, x: [batch, 13, 13, 192], filter: [3, 3, 192, 384] },
  { name: `conv4 b${batch}`, x: [batch, 13, 13, 384], filter: [3, 3, 384, 256] },
  { name: `conv5 b${batch}`, x: [batch, 13, 13, 256], filter: [3, 3, 256, 256] },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function maxRelativeDiff(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)));
    scale = Math.max(scale, Math.abs(a[i] as number));
  }
  return diff / scale;
}

/** Median ms of `f` (its result read back) with the Winograd kernels and without, alternating; and both results. */
function compare(f: () => tf.Tensor, reps: number): { winograd: number; direct: number; diff: number } {
  const times = { winograd: [] as number[], direct: [] as number[] };
  const values: Partial<Record<'winograd' | 'direct', Float32Array>> = {};
  for (let i = 0; i <= reps; i++) {
    for (const mode of ['winograd', 'direct'] as const) {
      setSimdKernelsEnabled(mode === 'winograd');
      const start = performance.now();
      const y = f();
      const data = y.dataSync() as Float32Array;
      const ms = performance.now() - start;
      y.dispose();
      if (i > 0) {
        times[mode].push(ms); // the first round warms up (operators, allocations)
      } else {
        values[mode] = data;
      }
    }
  }
  setSimdKernelsEnabled(true);
  return { winograd: median(times.winograd), direct: median(times.direct), diff: maxRelativeDiff(values.direct as Float32Array, values.winograd as Float32Array) };
}

async function main(): Promise<void> {
  const [which = 'small', repsArg = '5'] = process.argv.slice(2);
  const reps = Number(repsArg);
  const wasmFile = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm');
  setWasmPaths(path.dirname(wasmFile) + path.sep);
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
  const layers = which === 'alexnet' ? [...alexnet(1), ...alexnet(64)] : SMALL;
  console.log(`${which === 'alexnet' ? 'alexnet 224 px' : 'alexnet-small 32 px, batch 64'}: median ms of ${reps} (Winograd / direct, alternating)`);
  for (const l of layers) {
    const x = tf.randomNormal(l.x) as tf.Tensor4D;
    const w = tf.mul(tf.randomNormal(l.filter), 0.1) as tf.Tensor4D;
    const b = tf.randomNormal([l.filter[3]]) as tf.Tensor1D;
    const dy = tf.randomNormal([l.x[0], l.x[1], l.x[2], l.filter[3]]);
    const conv = (filter: tf.Tensor4D) => tf.fused.conv2d({ x, filter, bias: b, strides: 1, pad: 'same', activation: 'relu' });
    const row = (what: string, r: { winograd: number; direct: number; diff: number }) =>
      `  ${`${l.name} ${what}`.padEnd(34)} ${r.winograd.toFixed(2).padStart(8)} / ${r.direct.toFixed(2).padStart(8)} ms  ${(r.direct / r.winograd).toFixed(2)}×  diff ${r.diff.toExponential(1)}`;
    // Training multiplies by new weights every step (the filter is transformed each call); inference by the same ones (kept).
    console.log(row('forward, new weights', compare(() => tf.tidy(() => conv(tf.add(w, 0) as tf.Tensor4D)), reps)));
    console.log(row('forward, same weights', compare(() => conv(w), reps)));
    if (l.x[0] > 1) {
      const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: l.filter } as unknown as tf.NamedAttrMap;
      console.log(row('filter gradient', compare(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as tf.Tensor, reps)));
    }
    tf.dispose([x, w, b, dy]);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main();
}
