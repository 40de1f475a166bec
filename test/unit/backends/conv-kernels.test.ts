import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { groupedConv2d } from '../../../src/model/grouped-conv2d.js';
import { CASES, type ConvCase } from './conv-cases.js';
import { onCpuAndWasm, randomValues, relativeError, startWasm } from './wasm-test-backend.js';

const label = (c: ConvCase) => `x ${c.x.join('×')} filter ${c.filter.join('×')} stride ${String(c.strides)} pad ${String(c.pad)}`;
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

function outShape(c: ConvCase): number[] {
  return tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad).shape);
}

describe('wasm convolution gradient kernels match cpu', () => {
  beforeAll(startWasm);

  it.each(CASES)('Conv2DBackpropFilter: $x / $filter / $strides / $pad', async (c) => {
    const xv = randomValues(size(c.x), 1);
    const dyShape = outShape(c);
    const dyv = randomValues(size(dyShape), 2);
    const { cpu, wasm, shape } = await onCpuAndWasm(() =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor(xv, c.x), dy: tf.tensor(dyv, dyShape) }, {
        strides: c.strides,
        pad: c.pad,
        dataFormat: 'NHWC',
        filterShape: c.filter,
      }) as tf.Tensor,
    );
    expect(shape, label(c)).toEqual(c.filter);
    expect(relativeError(cpu, wasm), label(c)).toBeLessThan(1e-5);
  });

  it.each(CASES)('Conv2DBackpropInput: $x / $filter / $strides / $pad', async (c) => {
    const wv = randomValues(size(c.filter), 3);
    const dyShape = outShape(c);
    const dyv = randomValues(size(dyShape), 4);
    const { cpu, wasm, shape } = await onCpuAndWasm(() =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.tensor(dyv, dyShape), filter: tf.tensor(wv, c.filter) }, {
        strides: c.strides,
        pad: c.pad,
        dataFormat: 'NHWC',
        inputShape: c.x,
      }) as tf.Tensor,
    );
    expect(shape, label(c)).toEqual(c.x);
    expect(relativeError(cpu, wasm), label(c)).toBeLessThan(1e-5);
  });

  it.each([
    { groups: 2, strides: 1, padding: 'same' as const },
    { groups: 2, strides: 2, padding: 'valid' as const },
    { groups: 4, strides: 1, padding: 'valid' as const },
  ])('grouped conv forward and gradients: groups $groups stride $strides $padding', async (o) => {
    const xShape = [2, 9, 9, 8];
    const kShape = [3, 3, 8 / o.groups, 8];
    const values = [randomValues(size(xShape), 5), randomValues(size(kShape), 6), randomValues(8, 7)];
    const shapes = [xShape, kShape, [8]];
    const loss = (x: tf.Tensor, k: tf.Tensor, b: tf.Tensor) => {
      const y = groupedConv2d(x as tf.Tensor4D, k as tf.Tensor4D, b as tf.Tensor1D, { ...o, activation: 'relu' });
      return tf.sum(tf.mul(y, tf.sin(tf.range(0, y.size).reshape(y.shape))));
    };
    const forward = await onCpuAndWasm(() => tf.tidy(() => loss(tf.tensor(values[0]!, xShape), tf.tensor(values[1]!, kShape), tf.tensor(values[2]!))));
    expect(relativeError(forward.cpu, forward.wasm)).toBeLessThan(1e-5);
    for (const arg of [0, 1, 2]) {
      const { cpu, wasm } = await onCpuAndWasm(() =>
        tf.tidy(() => {
          const grads = tf.grads(loss)(values.map((v, i) => tf.tensor(v, shapes[i])));
          return grads[arg] as tf.Tensor;
        }),
      );
      expect(relativeError(cpu, wasm), `gradient of argument ${arg}`).toBeLessThan(1e-5);
    }
  });
});
