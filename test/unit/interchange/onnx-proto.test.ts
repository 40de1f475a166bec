import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import {
  OnnxAttributeType,
  decodeOnnxModel,
  encodeOnnxModel,
  floatTensor,
  onnxTensorFloats,
  type OnnxModel,
} from '../../../src/interchange/onnx-proto.js';

/** y = x · Wᵀ for W = [[1,2,3],[4,5,6]], with a metadata entry. */
function gemmModel(): OnnxModel {
  const dims = (n: number) => ({ tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'N' }, { dimValue: n }] } } });
  return {
    irVersion: 8,
    producerName: 'test',
    opsetImport: [{ domain: '', version: 13 }],
    metadataProps: [{ key: 'labels', value: '["a","b"]' }],
    graph: {
      name: 'g',
      node: [{ opType: 'Gemm', name: 'fc', input: ['x', 'W'], output: ['y'], attribute: [{ name: 'transB', type: OnnxAttributeType.INT, i: 1 }] }],
      initializer: [floatTensor('W', [2, 3], new Float32Array([1, 2, 3, 4, 5, 6]))],
      input: [{ name: 'x', type: dims(3) }],
      output: [{ name: 'y', type: dims(2) }],
    },
  };
}

describe('ONNX protobuf codec', () => {
  it('writes a model ONNX Runtime runs, and reads back what it wrote', async () => {
    const bytes = encodeOnnxModel(gemmModel());
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, 1, 1]), [1, 3]) });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([6, 15]);

    const back = decodeOnnxModel(bytes);
    expect(back.graph?.node?.[0]).toMatchObject({ opType: 'Gemm', input: ['x', 'W'], attribute: [{ name: 'transB', i: 1 }] });
    expect(Array.from(onnxTensorFloats(back.graph!.initializer![0]!))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(back.metadataProps).toEqual([{ key: 'labels', value: '["a","b"]' }]);
  });

  it('reads weights stored as float_data as well as raw bytes', () => {
    const model = gemmModel();
    model.graph!.initializer = [{ name: 'W', dims: [2, 3], dataType: 1, floatData: [1, 2, 3, 4, 5, 6] }];
    const back = decodeOnnxModel(encodeOnnxModel(model));
    expect(Array.from(onnxTensorFloats(back.graph!.initializer![0]!))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('refuses a file that is not an ONNX model with a sentence', () => {
    expect(() => decodeOnnxModel(new TextEncoder().encode('PK\u0003\u0004 not a model at all'))).toThrow(/not an ONNX model/);
    expect(() => decodeOnnxModel(new Uint8Array(0))).toThrow(/not an ONNX model \(it has no graph\)/);
  });
});
