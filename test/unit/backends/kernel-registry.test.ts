import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_KERNELS, profileKernels, registerWasmTrainingKernels, restoreWasmKernels } from '../../../src/backends/wasm-kernels/index.js';
import { benchmarkTrainingStep } from '../../../bench/step-kernels.js';
import { buildModel } from '../../../src/model/index.js';
import { PAPER_SGD_KERNEL, RELU_BIAS_GRAD_KERNEL } from '../../../src/backends/custom-kernels.js';
import { startWasm } from './wasm-test-backend.js';

const current = () => PROJECT_KERNELS.map((name) => tf.getKernel(name, 'wasm')?.kernelFunc);

describe('wasm kernel registry', () => {
  beforeAll(startWasm);

  it('registration is idempotent; restore puts the backend kernels back and can be undone', () => {
    const ours = current();
    registerWasmTrainingKernels();
    expect(current()).toEqual(ours);
    restoreWasmKernels();
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    expect(tf.getKernel(PAPER_SGD_KERNEL, 'wasm')).toBeUndefined();
    expect(tf.getKernel(RELU_BIAS_GRAD_KERNEL, 'wasm')).toBeUndefined();
    const backendOwn = current().filter((f) => f !== undefined);
    // All but the five the backend lacks: Conv2DBackpropFilter and the project's own PaperSgdUpdate, ReluBiasGrad, LRNTrain and LRNTrainGrad.
    expect(backendOwn).toHaveLength(PROJECT_KERNELS.length - 5);
    for (const f of backendOwn) {
      expect(ours).not.toContain(f);
    }
    registerWasmTrainingKernels(['Conv2DBackpropFilter']);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    restoreWasmKernels();
    registerWasmTrainingKernels();
    expect(current().every((f) => f !== undefined)).toBe(true);
  });

  it('rejects names that are not project kernels', () => {
    expect(() => registerWasmTrainingKernels(['MaxPool'])).toThrow(/not a project wasm kernel/);
  });

  it('profileKernels reports time per kernel, slowest first', async () => {
    const { kernels, totalMs } = await profileKernels(() => {
      tf.tidy(() => tf.conv2d(tf.ones([2, 8, 8, 3]) as tf.Tensor4D, tf.ones([3, 3, 3, 4]) as tf.Tensor4D, 1, 'same').sum().dataSync());
    });
    expect(kernels.map((k) => k.kernel)).toContain('Conv2D');
    expect(kernels.every((k, i) => i === 0 || (kernels[i - 1]?.ms ?? 0) >= k.ms)).toBe(true);
    expect(totalMs).toBeGreaterThan(0);
  });

  it('benchmarkTrainingStep times a step and profiles its kernels', async () => {
    const model = buildModel('alexnet-small', { numClasses: 3 });
    const tensors = tf.memory().numTensors;
    const { msPerStep, kernels } = await benchmarkTrainingStep(model, { batch: 2, inputSize: 32, steps: 1 });
    expect(msPerStep).toBeGreaterThan(0);
    expect(kernels.map((k) => k.kernel)).toEqual(expect.arrayContaining(['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad', 'LRNGrad']));
    expect(tf.memory().numTensors).toBe(tensors);
  });
});
