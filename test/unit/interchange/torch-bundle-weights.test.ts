import { describe, expect, it } from 'vitest';
import { describeModel } from '../../../src/model/index.js';
import { decodeSafetensors, encodeSafetensors, f32, floatsOf } from '../../../src/interchange/torch-bundle/safetensors.js';
import { fromTorchState, toTorchState, type WeightSpec } from '../../../src/interchange/torch-bundle/weights.js';

/** Weight specs (TF.js names and shapes, in model order) of a topology, and values i·0.001 + layer offset. */
function ourWeights(rows: ReturnType<typeof describeModel>): { specs: WeightSpec[]; data: ArrayBuffer } {
  const specs: WeightSpec[] = [];
  let shape = [32, 32, 3];
  for (const r of rows) {
    if (r.spec.kind === 'conv') {
      specs.push({ name: `${r.spec.name}/kernel`, shape: [r.spec.kernel, r.spec.kernel, shape[2]! / r.spec.groups, r.spec.filters], dtype: 'float32' });
      specs.push({ name: `${r.spec.name}/bias`, shape: [r.spec.filters], dtype: 'float32' });
    } else if (r.spec.kind === 'dense') {
      specs.push({ name: `${r.spec.name}/kernel`, shape: [shape[0]!, r.spec.units], dtype: 'float32' });
      specs.push({ name: `${r.spec.name}/bias`, shape: [r.spec.units], dtype: 'float32' });
    }
    shape = r.outputShape;
  }
  const n = specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
  return { specs, data: Float32Array.from({ length: n }, (_, i) => i).buffer };
}

describe('torch bundle weights', () => {
  const rows = describeModel('alexnet-small', { numClasses: 3, inputSize: 32 });

  it('puts conv kernels in OIHW, dense kernels in [out, in], and fc6 rows in C·H·W order', () => {
    const { specs, data } = ourWeights(rows);
    const state = toTorchState(rows, specs, data);
    expect(state['conv1.weight']!.shape).toEqual([32, 3, 5, 5]);
    expect(state['fc6.weight']!.shape).toEqual([256, 3 * 3 * 64]);
    const ours = new Float32Array(data);
    // conv1 kernel [5, 5, 3, 32] starts at 0: ours[(y*5 + x)*3*32 + i*32 + o] is torch [o, i, y, x].
    const conv1 = floatsOf(state['conv1.weight']!);
    expect(conv1[((7 * 3 + 2) * 5 + 4) * 5 + 1]).toBe(ours[(4 * 5 + 1) * 96 + 2 * 32 + 7]);
    // fc6: the pre-flatten shape is [3, 3, 64]; torch column c*9 + h*3 + w is our row (h*3 + w)*64 + c.
    const offset = specs.slice(0, specs.findIndex((s) => s.name === 'fc6/kernel')).reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
    const fc6 = floatsOf(state['fc6.weight']!);
    const [o, c, h, w] = [17, 40, 2, 1];
    expect(fc6[o * 576 + c * 9 + h * 3 + w]).toBe(ours[offset + ((h * 3 + w) * 64 + c) * 256 + o]);
  });

  it('comes back bit-identical through safetensors and fromTorchState', () => {
    const { specs, data } = ourWeights(rows);
    const bytes = encodeSafetensors(toTorchState(rows, specs, data), { format: 'pt' });
    expect(Number(bytes.readBigUInt64LE(0)) % 8).toBe(0);
    const back = fromTorchState(rows, specs, decodeSafetensors(bytes));
    expect(Buffer.from(back).equals(Buffer.from(data))).toBe(true);
  });

  it('names the weight that is missing or has another shape', () => {
    const { specs, data } = ourWeights(rows);
    const state = toTorchState(rows, specs, data);
    const { ['fc8.bias']: _gone, ...rest } = state;
    expect(() => fromTorchState(rows, specs, rest)).toThrow('the result weights have no fc8.bias');
    expect(() => fromTorchState(rows, specs, { ...state, 'fc8.bias': f32([4], new Float32Array(4)) })).toThrow('fc8.bias has shape [4], the network needs [3]');
  });

  it('refuses a file that is not safetensors, in words', () => {
    expect(() => decodeSafetensors(new Uint8Array([1, 2, 3]))).toThrow('shorter than its 8-byte header');
    const bogus = Buffer.alloc(16);
    bogus.writeBigUInt64LE(1000n);
    expect(() => decodeSafetensors(bogus)).toThrow('header of 1000 bytes');
  });
});
