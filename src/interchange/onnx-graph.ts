// Our network (a tf.LayersModel built from a layer list, activations NHWC) as an ONNX graph on NCHW input,
// in the shape torchvision's exported AlexNet has: Conv (+ group, explicit pads) → Relu → LRN → MaxPool →
// Flatten → Gemm (transB) → Relu → … → Softmax. Kernels HWIO become OIHW, dense kernels (in, out) become
// Gemm's B (out, in), and fc6's rows are permuted from our HWC flatten order to ONNX's CHW order, so the
// file holds no Transpose and reads like any other AlexNet.
import type * as tf from '@tensorflow/tfjs';
import { OnnxAttributeType, floatTensor, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './onnx-proto.js';

/** Name of the graph's input (float32 NCHW, RGB, preprocessed). */
export const ONNX_INPUT = 'input';
/** Name of the graph's output (float32 [N, classes], the softmax). */
export const ONNX_OUTPUT = 'probabilities';

/** The nodes and weights of a network, with the size of its output. */
export interface OnnxGraphParts {
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  classes: number;
}

const int = (name: string, i: number): OnnxAttribute => ({ name, type: OnnxAttributeType.INT, i });
const ints = (name: string, values: number[]): OnnxAttribute => ({ name, type: OnnxAttributeType.INTS, ints: values });
const float = (name: string, f: number): OnnxAttribute => ({ name, type: OnnxAttributeType.FLOAT, f });
const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : [Number(v), Number(v)]);

/** TensorFlow's 'same' padding of one axis as [before, after] (the extra pixel, if any, goes after). */
export function samePads(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** A [k, k, in, out] (HWIO) kernel as [out, in, k, k] (OIHW). */
export function hwioToOihw(values: Float32Array, [kh, kw, cin, cout]: number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let h = 0; h < kh!; h++) {
    for (let w = 0; w < kw!; w++) {
      for (let i = 0; i < cin!; i++) {
        for (let o = 0; o < cout!; o++) {
          out[((o * cin! + i) * kh! + h) * kw! + w] = values[((h * kw! + w) * cin! + i) * cout! + o]!;
        }
      }
    }
  }
  return out;
}

/**
 * A dense kernel [in, out] as Gemm's B [out, in]. When the input is a flattened [h, w, c] map (our NHWC
 * order), B's columns follow ONNX's flatten of the NCHW map instead: column c·h·w + y·w + x is our row (y·w + x)·c + c.
 */
export function denseToGemmB(values: Float32Array, [inputs, units]: number[], flattenedFrom: [number, number, number] | null): Float32Array {
  const out = new Float32Array(values.length);
  const [c, h, w] = flattenedFrom ?? [inputs!, 1, 1];
  for (let ch = 0; ch < c; ch++) {
    for (let p = 0; p < h * w; p++) {
      const ours = p * c + ch;
      const theirs = ch * h * w + p;
      for (let u = 0; u < units!; u++) {
        out[u * inputs! + theirs] = values[ours * units! + u]!;
      }
    }
  }
  return out;
}

/** The layer's weights as float32 arrays with their shapes. */
function weightsOf(layer: tf.layers.Layer): Array<{ shape: number[]; values: Float32Array }> {
  return layer.getWeights().map((t) => ({ shape: t.shape, values: t.dataSync() as Float32Array }));
}

/**
 * The ONNX nodes and initializers computing `model` on NCHW input of `inputSize`² RGB pixels. Throws a sentence
 * naming the layer when the model holds a layer ONNX cannot express the way we compute it.
 */
export function onnxGraphOf(model: tf.LayersModel, inputSize: number): OnnxGraphParts {
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  let value = ONNX_INPUT;
  /** [channels, height, width] while image-shaped, else [features]. */
  let shape: number[] = [3, inputSize, inputSize];
  let flattenedFrom: [number, number, number] | null = null;
  let border: [number, number, number, number] = [0, 0, 0, 0]; // a ZeroPadding2D waiting for its convolution
  const emit = (opType: string, name: string, inputs: string[], attribute: OnnxAttribute[] = []): void => {
    nodes.push({ opType, name, input: inputs, output: [name], attribute });
    value = name;
  };
  const refuse = (layer: tf.layers.Layer, why: string): never => {
    throw new Error(`Layer ${layer.name} (${layer.getClassName()}) cannot be written as ONNX: ${why}.`);
  };

  for (const layer of model.layers) {
    const config = layer.getConfig() as Record<string, unknown>;
    const cls = layer.getClassName();
    if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast') {
      refuse(layer, 'only channels-last layers are supported');
    }
    if (cls !== 'ZeroPadding2D' && cls !== 'InputLayer' && border.some((b) => b > 0) && cls !== 'Conv2D' && cls !== 'GroupedConv2D') {
      refuse(layer, 'zero padding is only supported before a convolution');
    }
    switch (cls) {
      case 'InputLayer':
      case 'Dropout': // identity at inference
        break;
      case 'ZeroPadding2D': {
        const [[top, bottom], [left, right]] = config.padding as [[number, number], [number, number]];
        border = [border[0] + top, border[1] + left, border[2] + bottom, border[3] + right];
        shape = [shape[0]!, shape[1]! + top + bottom, shape[2]! + left + right];
        break;
      }
      case 'Conv2D':
      case 'GroupedConv2D': {
        const grouped = cls === 'GroupedConv2D';
        const [kh, kw] = pair(config.kernelSize);
        const [sh, sw] = pair(config.strides ?? 1);
        const groups = grouped ? Number(config.groups) : 1;
        const activation = String(config.activation ?? 'linear');
        if (!grouped && (config.useBias !== true || pair(config.dilationRate ?? 1).some((d) => d !== 1))) {
          refuse(layer, 'only biased, undilated convolutions are supported');
        }
        if (activation !== 'relu' && activation !== 'linear') {
          refuse(layer, `activation ${activation} is not supported`);
        }
        const [kernel, bias] = weightsOf(layer) as [{ shape: number[]; values: Float32Array }, { shape: number[]; values: Float32Array }];
        const [c, h, w] = shape as [number, number, number];
        const [top, bottom] = config.padding === 'same' ? samePads(h, kh, sh) : [0, 0];
        const [left, right] = config.padding === 'same' ? samePads(w, kw, sw) : [0, 0];
        const pads = [border[0] + top, border[1] + left, border[2] + bottom, border[3] + right];
        // 'same' pads count from the map after the ZeroPadding2D; the explicit border comes on top of them.
        const filters = kernel.shape[3]!;
        initializers.push(floatTensor(`${layer.name}.weight`, [filters, kernel.shape[2]!, kh, kw], hwioToOihw(kernel.values, kernel.shape)));
        initializers.push(floatTensor(`${layer.name}.bias`, [filters], bias.values));
        emit('Conv', layer.name, [value, `${layer.name}.weight`, `${layer.name}.bias`], [
          ints('kernel_shape', [kh, kw]),
          ints('strides', [sh, sw]),
          ints('pads', pads),
          ints('dilations', [1, 1]),
          int('group', groups),
        ]);
        if (activation === 'relu') {
          emit('Relu', `${layer.name}_relu`, [value]);
        }
        const outH = Math.floor((h - border[0] - border[2] + pads[0]! + pads[2]! - kh) / sh) + 1;
        const outW = Math.floor((w - border[1] - border[3] + pads[1]! + pads[3]! - kw) / sw) + 1;
        shape = [filters, outH, outW];
        border = [0, 0, 0, 0];
        if (c % groups !== 0) {
          refuse(layer, `${c} channels do not split into ${groups} groups`);
        }
        break;
      }
      case 'LocalResponseNormalization': {
        // Ours (the paper's, TensorFlow's): x / (k + α Σ x²)^β over 2r+1 channels. ONNX divides α by the
        // window size: y = x / (bias + alpha/size · Σ x²)^beta, so alpha = α · size.
        const r = Number(config.depthRadius);
        const size = 2 * r + 1;
        emit('LRN', layer.name, [value], [int('size', size), float('alpha', Number(config.alpha) * size), float('beta', Number(config.beta)), float('bias', Number(config.bias))]);
        break;
      }
      case 'MaxPooling2D': {
        const [ph, pw] = pair(config.poolSize);
        const [sh, sw] = pair(config.strides ?? config.poolSize);
        const [, h, w] = shape as [number, number, number];
        const [top, bottom] = config.padding === 'same' ? samePads(h, ph, sh) : [0, 0];
        const [left, right] = config.padding === 'same' ? samePads(w, pw, sw) : [0, 0];
        emit('MaxPool', layer.name, [value], [ints('kernel_shape', [ph, pw]), ints('strides', [sh, sw]), ints('pads', [top, left, bottom, right])]);
        shape = [shape[0]!, Math.floor((h + top + bottom - ph) / sh) + 1, Math.floor((w + left + right - pw) / sw) + 1];
        break;
      }
      case 'Flatten': {
        if (shape.length === 3) {
          flattenedFrom = shape as [number, number, number];
          emit('Flatten', layer.name, [value], [int('axis', 1)]);
          shape = [shape.reduce((a, b) => a * b, 1)];
        }
        break;
      }
      case 'Dense': {
        const activation = String(config.activation ?? 'linear');
        if (config.useBias !== true || !['relu', 'linear', 'softmax'].includes(activation)) {
          refuse(layer, `only biased dense layers with relu, linear or softmax are supported (got ${activation})`);
        }
        if (shape.length !== 1) {
          refuse(layer, 'a dense layer on an image-shaped input needs a Flatten before it');
        }
        const [kernel, bias] = weightsOf(layer) as [{ shape: number[]; values: Float32Array }, { shape: number[]; values: Float32Array }];
        const [inputs, units] = kernel.shape as [number, number];
        initializers.push(floatTensor(`${layer.name}.weight`, [units, inputs], denseToGemmB(kernel.values, kernel.shape, flattenedFrom)));
        initializers.push(floatTensor(`${layer.name}.bias`, [units], bias.values));
        flattenedFrom = null;
        emit('Gemm', layer.name, [value, `${layer.name}.weight`, `${layer.name}.bias`], [float('alpha', 1), float('beta', 1), int('transB', 1)]);
        if (activation === 'relu') {
          emit('Relu', `${layer.name}_relu`, [value]);
        } else if (activation === 'softmax') {
          emit('Softmax', `${layer.name}_softmax`, [value], [int('axis', 1)]);
        }
        shape = [units];
        break;
      }
      default:
        refuse(layer, 'this layer type has no ONNX mapping');
    }
  }
  const last = nodes[nodes.length - 1];
  if (!last || last.opType !== 'Softmax' || shape.length !== 1) {
    throw new Error('The network does not end with a softmax over classes, so it cannot be written as an ONNX classifier.');
  }
  last.output = [ONNX_OUTPUT];
  return { nodes, initializers, classes: shape[0]! };
}
