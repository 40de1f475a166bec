// Files the importer must refuse, each with a sentence naming what does not fit; nothing is executed or kept.
import fs from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeOnnxModel, floatTensor, OnnxAttributeType, type OnnxNode, type OnnxTensor } from '../../../src/interchange/onnx-proto.js';
import { alexnetFromOnnx } from '../../../src/pretrained/onnx-alexnet.js';
import { unpickle } from '../../../src/pretrained/pickle.js';
import { readStateDict } from '../../../src/pretrained/pth.js';
import { openStudio } from '../../../src/studio.js';
import { tempDir } from '../../helpers/temp.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    await c();
  }
});

/** protocol 2: os.system('ls') — what a hostile pickle does. */
const HOSTILE = Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.from('cos\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85R.', 'latin1')]);

const ints = (name: string, values: number[]) => ({ name, type: OnnxAttributeType.INTS, ints: values });
const int = (name: string, value: number) => ({ name, type: OnnxAttributeType.INT, i: value });

/** A chain graph from layer descriptions: conv(filters, inChannels, k, stride, pad, groups) and single ops. */
function graph(layers: Array<{ conv: [number, number, number, number, number, number] } | { op: string }>): Uint8Array {
  const node: OnnxNode[] = [];
  const initializer: OnnxTensor[] = [];
  let x = 'x';
  layers.forEach((l, i) => {
    const out = `t${i}`;
    if ('conv' in l) {
      const [f, c, k, s, p, g] = l.conv;
      initializer.push(floatTensor(`w${i}`, [f, c, k, k], new Float32Array(f * c * k * k)), floatTensor(`b${i}`, [f], new Float32Array(f)));
      node.push({ opType: 'Conv', name: `conv_${i}`, input: [x, `w${i}`, `b${i}`], output: [out], attribute: [ints('kernel_shape', [k, k]), ints('strides', [s, s]), ints('pads', [p, p, p, p]), int('group', g)] });
    } else {
      node.push({ opType: l.op, name: `${l.op.toLowerCase()}_${i}`, input: [x], output: [out] });
    }
    x = out;
  });
  const tensor = (name: string, dims: number[]) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  return encodeOnnxModel({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph: { name: 'g', node, initializer, input: [tensor('x', [1, 3, 224, 224])], output: [tensor(x, [1, 64])] } });
}

describe('import refusals', () => {
  it('never runs a pickle global other than the tensor rebuilders: os.system is refused by name', () => {
    expect(() => unpickle(HOSTILE)).toThrow('The pickle refers to os.system, which a file of weights never needs; it was not run.');
    const zip = zipSync({ 'archive/data.pkl': HOSTILE }, { level: 0 });
    expect(() => readStateDict(zip)).toThrow('The pickle refers to os.system');
  });

  it('explains legacy (pre-1.6) .pth files and files that are not .pth at all', () => {
    expect(() => readStateDict(Uint8Array.from([0x80, 0x02, 0x8a, 0x0a]))).toThrow(/saved by PyTorch before 1\.6 .*torch\.save\(model\.state_dict\(\), path\)/);
    expect(() => readStateDict(Buffer.from('hello'))).toThrow('This file is not a PyTorch .pth');
  });

  it('refuses ONNX graphs that are not AlexNets, naming the first node that does not fit', () => {
    expect(() => alexnetFromOnnx(graph([{ conv: [64, 3, 11, 4, 2, 1] }, { op: 'Relu' }, { op: 'Sigmoid' }]))).toThrow('node 2 (Sigmoid "sigmoid_2"): operator Sigmoid is not part of an AlexNet.');
    expect(() => alexnetFromOnnx(graph([{ conv: [50, 3, 11, 4, 2, 1] }, { op: 'Relu' }]))).toThrow('node 0 (Conv "conv_0") (conv 50 filters 11×11/4, groups 1) does not start an AlexNet');
    expect(() => alexnetFromOnnx(graph([{ conv: [64, 3, 11, 4, 2, 1] }, { op: 'Relu' }, { conv: [192, 64, 5, 1, 2, 1] }, { op: 'Relu' }]))).toThrow(
      `node 2 (Conv "conv_2") (conv 192 filters 5×5/1, groups 1) does not fit alexnet's pool1 (max-pool 3×3/2); this is not an AlexNet the app can import.`,
    );
    expect(() => alexnetFromOnnx(graph([{ conv: [64, 3, 11, 4, 2, 1] }, { op: 'Sigmoid' }]))).toThrow('node 0 (Conv "conv_0") is not followed by a Relu');
  });

  it('models.import of a refused file answers bad_request and leaves no row and no folder', async () => {
    const { dir, cleanup } = tempDir('refuse-lib-');
    cleanups.push(cleanup);
    const file = path.join(dir, 'not-alexnet.onnx');
    fs.writeFileSync(file, graph([{ conv: [50, 3, 11, 4, 2, 1] }, { op: 'Relu' }]));
    const studio = openStudio({ libraryDir: path.join(dir, 'lib'), host: 'cli' });
    cleanups.push(() => studio.close());
    const err = await studio.call('models.import', { dir: file }).catch((e: unknown) => e);
    expect((err as { code: string }).code).toBe('bad_request');
    expect((err as Error).message).toBe(`${file}: node 0 (Conv "conv_0") (conv 50 filters 11×11/4, groups 1) does not start an AlexNet (conv1 with 64, 96 or 32 filters). Nothing was imported.`);
    expect(await studio.call('models.list')).toEqual([]);
    expect(fs.readdirSync(path.join(dir, 'lib', 'models'))).toEqual([]);
  });
});
