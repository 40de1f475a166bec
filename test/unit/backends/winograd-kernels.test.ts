import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { winogradCalls, winogradPays } from '../../../src/backends/wasm-kernels/winograd-conv.js';
import { onCpuAndWasm, randomValues, relativeError, startWasm } from './wasm-test-backend.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface Case {
  x: Shape4;
  filter: Shape4;
  pad: Pad;
}

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const label = (c: Case) => `x ${c.x.join('×')} filter ${c.filter.join('×')} pad ${JSON.stringify(c.pad)}`;

// Shapes where the Winograd kernels run (each is checked to take that path): F(4×4,3×3) and
// F(4×4,5×5) (8×8 tiles), 'same', 'valid' and explicit asymmetric borders, sizes that are not a multiple of the
// tile (7, 9, 11, 15), output channels that are not a multiple of 8, alexnet-small's layers.
const FORWARD: Case[] = [
  { x: [16, 7, 7, 32], filter: [3, 3, 32, 48], pad: 'same' },
  { x: [8, 15, 15, 32], filter: [5, 5, 32, 32], pad: 'same' },
  { x: [8, 9, 11, 16], filter: [3, 3, 16, 20], pad: 'valid' },
  { x: [16, 10, 9, 16], filter: [3, 3, 16, 16], pad: [[0, 0], [2, 0], [1, 2], [0, 0]] },
  { x: [16, 11, 13, 32], filter: [5, 5, 32, 28], pad: 'valid' },
  { x: [2, 8, 8, 32], filter: [3, 3, 32, 16], pad: 'same' },
];
// Filter gradients also take RGB inputs (3 channels, padded to 4 inside the kernel) and 5 channels.
// An RGB first layer at a training batch (5×5): forward only (its input gradient is never asked for).
const RGB_BATCH: Case = { x: [16, 32, 32, 3], filter: [5, 5, 3, 32], pad: 'same' };
// Input gradients are convolutions of dy with borders r − 1 − pad: 'valid' becomes 'full', the asymmetric
// case asymmetric the other way (16 channels there would not pay, so 32).
const INPUT_GRAD: Case[] = FORWARD.map((c) => (Array.isArray(c.pad) ? { ...c, x: [16, 10, 9, 32], filter: [3, 3, 32, 32] } : c));
const FILTER_GRAD: Case[] = [...FORWARD, { x: [4, 32, 32, 3], filter: [5, 5, 3, 32], pad: 'same' }, { x: [4, 12, 12, 5], filter: [3, 3, 5, 8], pad: 'same' }];

function outShape(c: Case): Shape4 {
  return tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, 1, c.pad).shape as Shape4);
}

describe('Winograd convolution kernels (wasm) match cpu', () => {
  beforeAll(startWasm);

  it('pays for the large layers and training batches of an RGB first layer, not for a single image', () => {
    const info = (x: Shape4, f: Shape4) => tf.backend_util.computeConv2DInfo(x, f, 1, 1, 'same');
    expect(winogradPays(info([64, 7, 7, 96], [3, 3, 96, 96]), 'forward')).toBe(true);
    expect(winogradPays(info([64, 15, 15, 32], [5, 5, 32, 64]), 'forward')).toBe(true);
    expect(winogradPays(info([1, 7, 7, 96], [3, 3, 96, 96]), 'forward')).toBe(false);
    // An RGB first layer: a training batch takes Winograd, a single image stays direct.
    expect(winogradPays(info([64, 32, 32, 3], [5, 5, 3, 32]), 'forward')).toBe(true);
    expect(winogradPays(info([1, 64, 64, 3], [5, 5, 3, 32]), 'forward')).toBe(false);
    expect(winogradPays(info([64, 32, 32, 3], [5, 5, 3, 32]), 'filterGrad')).toBe(true);
  });

  it.each([...FORWARD, RGB_BATCH])('FusedConv2D with bias and ReLU: $x / $filter / $pad', async (c) => {
    const xv = randomValues(size(c.x), 1);
    const wv = randomValues(size(c.filter), 2).map((v) => v * 0.2);
    const bv = randomValues(c.filter[3], 3);
    const before = winogradCalls.forward;
    const { cpu, wasm, shape } = await onCpuAndWasm(() =>
      tf.fused.conv2d({ x: tf.tensor(xv, c.x) as tf.Tensor4D, filter: tf.tensor(wv, c.filter) as tf.Tensor4D, bias: tf.tensor(bv), strides: 1, pad: c.pad, activation: 'relu' }),
    );
    expect(winogradCalls.forward, `${label(c)} took the Winograd path`).toBe(before + 1);
    expect(shape).toEqual(outShape(c));
    expect(cpu.some((v) => v === 0) && cpu.some((v) => v > 0), 'ReLU cut some outputs and kept others').toBe(true);
    expect(relativeError(cpu, wasm), label(c)).toBeLessThan(2e-5);
  });

  it.each(FORWARD)('Conv2D without bias: $x / $filter / $pad', async (c) => {
    const xv = randomValues(size(c.x), 4);
    const wv = randomValues(size(c.filter), 5);
    const before = winogradCalls.forward;
    const { cpu, wasm } = await onCpuAndWasm(() => tf.conv2d(tf.tensor(xv, c.x) as tf.Tensor4D, tf.tensor(wv, c.filter) as tf.Tensor4D, 1, c.pad));
    expect(winogradCalls.forward).toBe(before + 1);
    expect(relativeError(cpu, wasm), label(c)).toBeLessThan(2e-5);
  });

  it.each(FILTER_GRAD)('Conv2DBackpropFilter: $x / $filter / $pad', async (c) => {
    const xv = randomValues(size(c.x), 6);
    const dyShape = outShape(c);
    const dyv = randomValues(size(dyShape), 7);
    const before = winogradCalls.filterGrad;
    const { cpu, wasm, shape } = await onCpuAndWasm(() =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor(xv, c.x), dy: tf.tensor(dyv, dyShape) }, {
        strides: 1,
        pad: c.pad,
        dataFormat: 'NHWC',
        filterShape: c.filter,
      }) as tf.Tensor,
    );
    expect(winogradCalls.filterGrad, `${label(c)} took the Winograd path`).toBe(before + 1);
    expect(shape).toEqual(c.filter);
    // Sums over up to 16·32·32 products, through transforms with constants from 1/90 to 16: a few ulps more than direct summation.
    expect(relativeError(cpu, wasm), label(c)).toBeLessThan(5e-5);
  });

  it.each(INPUT_GRAD)('Conv2DBackpropInput (dy convolved with the turned filter): $x / $filter / $pad', async (c) => {
    const wv = randomValues(size(c.filter), 14);
    const dyShape = outShape(c);
    const dyv = randomValues(size(dyShape), 15);
    const before = winogradCalls.forward;
    const { cpu, wasm, shape } = await onCpuAndWasm(
      () =>
        tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.tensor(dyv, dyShape), filter: tf.tensor(wv, c.filter) }, {
          strides: 1,
          pad: c.pad,
          dataFormat: 'NHWC',
          inputShape: c.x,
        }) as tf.Tensor,
    );
    expect(winogradCalls.forward, `${label(c)} took the Winograd path`).toBe(before + 1);
    expect(shape).toEqual(c.x);
    expect(relativeError(cpu, wasm), label(c)).toBeLessThan(2e-5);
  });

  it('keeps a filter transformed from its second use (inference), follows new weights, and frees it with the filter', async () => {
    const c = { x: [8, 7, 7, 32] as Shape4, filter: [3, 3, 32, 48] as Shape4 };
    const xv = randomValues(size(c.x), 11);
    const first = randomValues(size(c.filter), 12);
    const second = randomValues(size(c.filter), 13);
    const reference = async (wv: Float32Array) => {
      await tf.setBackend('cpu');
      const y = tf.conv2d(tf.tensor(xv, c.x) as tf.Tensor4D, tf.tensor(wv, c.filter) as tf.Tensor4D, 1, 'same');
      const values = y.dataSync() as Float32Array;
      y.dispose();
      await tf.setBackend('wasm');
      return values;
    };
    const [want1, want2] = [await reference(first), await reference(second)];
    const kept = winogradCalls.keptFilters;
    const x = tf.tensor(xv, c.x) as tf.Tensor4D;
    const init = tf.tensor(first, c.filter) as tf.Tensor4D;
    const w = tf.variable(init) as tf.Variable<tf.Rank.R4>;
    init.dispose();
    const conv = () => tf.tidy(() => tf.conv2d(x, w, 1, 'same').dataSync() as Float32Array);
    expect(relativeError(want1, conv())).toBeLessThan(2e-5);
    expect(winogradCalls.keptFilters, 'first use: transformed, not kept').toBe(kept);
    for (let i = 0; i < 3; i++) {
      expect(relativeError(want1, conv())).toBeLessThan(2e-5);
    }
    expect(winogradCalls.keptFilters, 'kept from the second use').toBe(kept + 1);
    // New weights (an optimizer step): a new tensor, so a new transform; the old one is freed with the old data.
    const next = tf.tensor(second, c.filter) as tf.Tensor4D;
    w.assign(next);
    next.dispose();
    expect(winogradCalls.keptFilters).toBe(kept);
    for (let i = 0; i < 2; i++) {
      expect(relativeError(want2, conv())).toBeLessThan(2e-5);
    }
    expect(winogradCalls.keptFilters).toBe(kept + 1);
    w.dispose();
    x.dispose();
    expect(winogradCalls.keptFilters, 'freed with the filter').toBe(kept);
  });

  it('a conv + ReLU layer trains the same: gradients of x, filter and bias through tf.grads', async () => {
    const c = { x: [16, 9, 9, 16] as Shape4, filter: [3, 3, 16, 24] as Shape4 };
    const values = [randomValues(size(c.x), 8), randomValues(size(c.filter), 9).map((v) => v * 0.3), randomValues(24, 10)];
    const shapes = [c.x, c.filter, [24]];
    const run = (which: number) => () => {
      const [x, w, b] = values.map((v, i) => tf.tensor(v, shapes[i]));
      const loss = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => {
        const y = tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: ww as tf.Tensor4D, bias: bb, strides: 1, pad: 'same', activation: 'relu' });
        return tf.sum(tf.mul(y, tf.cos(tf.range(0, y.size).reshape(y.shape))));
      };
      return tf.grads(loss)([x as tf.Tensor, w as tf.Tensor, b as tf.Tensor])[which] as tf.Tensor;
    };
    const calls = { ...winogradCalls };
    for (let i = 0; i < 3; i++) {
      const { cpu, wasm } = await onCpuAndWasm(run(i));
      expect(relativeError(cpu, wasm), `gradient ${i}`).toBeLessThan(5e-5);
    }
    // Forward three times, filter gradient once; the input gradient is a Conv2D of dy (forward again).
    expect(winogradCalls.forward).toBeGreaterThan(calls.forward);
    expect(winogradCalls.filterGrad).toBeGreaterThan(calls.filterGrad);
  });
});
