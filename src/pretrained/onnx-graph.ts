// Reads a feed-forward ONNX classifier (a chain Conv/Relu/LRN/MaxPool/…/Gemm/Softmax, NCHW) into plain layer
// records with their weights as the graph holds them. Anything that is not such a chain is refused with a sentence
// naming the first node or shape that does not fit.
import { OnnxDataType, onnxTensorFloats, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor } from '../interchange/onnx-proto.js';

/** One layer of the chain, in graph order, with its ONNX node name for messages. */
export type GraphLayer =
  | { kind: 'conv'; node: string; filters: number; kernel: number; stride: number; padding: number; groups: number; weight: Float32Array; weightShape: number[]; bias: Float32Array }
  | { kind: 'lrn'; node: string; size: number; alpha: number; beta: number; bias: number }
  | { kind: 'maxpool'; node: string; pool: number; stride: number; padding: 'same' | 'valid' }
  | { kind: 'flatten'; node: string }
  | { kind: 'dense'; node: string; units: number; inputs: number; relu: boolean; weight: Float32Array; transposed: boolean; bias: Float32Array };

/** The chain, the input the graph declares, and whether it ended with a Softmax (stripped: the layers give logits). */
export interface GraphChain {
  layers: GraphLayer[];
  inputName: string;
  /** Side of the square input the graph declares, or null when its dims are symbolic. */
  inputSize: number | null;
  endsWithSoftmax: boolean;
}

/** Thrown for a graph that is not a chain this importer reads; the message names the node. */
export class GraphRefused extends Error {}

const nodeName = (n: OnnxNode, i: number): string => `node ${i} (${n.opType}${n.name ? ` "${n.name}"` : ''})`;

function attr(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}
const ints = (node: OnnxNode, name: string): number[] | undefined => attr(node, name)?.ints?.map(Number);
const int = (node: OnnxNode, name: string, fallback: number): number => Number(attr(node, name)?.i ?? fallback);
const float = (node: OnnxNode, name: string, fallback: number): number => attr(node, name)?.f ?? fallback;

/** Int64 values of a (shape) initializer. */
function tensorInts(t: OnnxTensor): number[] {
  if (t.dataType !== OnnxDataType.INT64) {
    throw new GraphRefused(`Tensor ${t.name ?? ''} should hold int64 values.`);
  }
  if (t.rawData?.byteLength) {
    const copy = new Uint8Array(t.rawData);
    return Array.from(new BigInt64Array(copy.buffer), Number);
  }
  return (t.int64Data ?? []).map(Number);
}

/** Output side of a 2-D window op in ONNX terms. */
function onnxOut(size: number, k: number, s: number, before: number, after: number, ceil: boolean): number {
  const span = (size + before + after - k) / s;
  return (ceil ? Math.ceil(span) : Math.floor(span)) + 1;
}

/** Walks the graph as a chain from its one data input; throws GraphRefused naming the first node that does not fit. */
export function readGraphChain(model: OnnxModel): GraphChain {
  const graph = model.graph!;
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const inputs = (graph.input ?? []).filter((i) => !inits.has(i.name));
  if (inputs.length !== 1) {
    throw new GraphRefused(`The graph has ${inputs.length} data inputs; an image classifier has one.`);
  }
  const input = inputs[0]!;
  const dims = input.type?.tensorType?.shape?.dim ?? [];
  const dimValues = dims.map((d) => (d.dimValue === undefined ? null : Number(d.dimValue)));
  if (dims.length !== 4 || dimValues[1] !== 3) {
    throw new GraphRefused(`The graph's input "${input.name}" has shape [${dimValues.map((d) => d ?? '?').join(', ')}]; expected [N, 3, H, W] (NCHW RGB or BGR).`);
  }
  const [h, w] = [dimValues[2], dimValues[3]];
  if (h != null && w != null && h !== w) {
    throw new GraphRefused(`The graph's input "${input.name}" is ${h}×${w}; only square inputs are supported.`);
  }
  const inputSize = h ?? w ?? null;
  const layers: GraphLayer[] = [];
  let current = input.name;
  let endsWithSoftmax = false;
  const nodes = graph.node ?? [];
  const weightOf = (n: OnnxNode, i: number, k: number, what: string): OnnxTensor => {
    const t = inits.get(n.input?.[k] ?? '');
    if (!t) {
      throw new GraphRefused(`${nodeName(n, i)}: its ${what} is not a constant of the graph.`);
    }
    return t;
  };
  const floats = (t: OnnxTensor, n: OnnxNode, i: number): Float32Array => {
    try {
      return onnxTensorFloats(t);
    } catch (err) {
      throw new GraphRefused(`${nodeName(n, i)}: ${(err as Error).message}`);
    }
  };
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    const where = nodeName(n, i);
    if (endsWithSoftmax) {
      throw new GraphRefused(`${where} comes after the Softmax; a classifier ends with it.`);
    }
    if ((n.domain ?? '') !== '' && n.domain !== 'ai.onnx') {
      throw new GraphRefused(`${where} is from operator domain "${n.domain}", not standard ONNX.`);
    }
    if (n.input?.[0] !== current) {
      throw new GraphRefused(`${where} does not take the previous layer's output (${current}); only a plain chain of layers can be imported.`);
    }
    const next = nodes[i + 1];
    const reluFollows = next?.opType === 'Relu' && next.input?.[0] === n.output?.[0];
    switch (n.opType) {
      case 'Conv': {
        const wt = weightOf(n, i, 1, 'weight');
        const shape = (wt.dims ?? []).map(Number);
        const k = ints(n, 'kernel_shape') ?? shape.slice(2);
        const strides = ints(n, 'strides') ?? [1, 1];
        const pads = ints(n, 'pads') ?? [0, 0, 0, 0];
        const autoPad = attr(n, 'auto_pad')?.s ? new TextDecoder().decode(attr(n, 'auto_pad')!.s) : 'NOTSET';
        if (shape.length !== 4 || k[0] !== k[1] || shape[2] !== k[0] || shape[3] !== k[1] || strides[0] !== strides[1]) {
          throw new GraphRefused(`${where}: kernel [${shape.join(', ')}] with strides [${strides.join(', ')}]; only square kernels and strides are supported.`);
        }
        if ((autoPad !== 'NOTSET' && autoPad !== 'VALID') || !pads.every((p) => p === pads[0]) || (ints(n, 'dilations') ?? [1, 1]).some((d) => d !== 1)) {
          throw new GraphRefused(`${where}: padding [${pads.join(', ')}] (auto_pad ${autoPad}) or dilation is not a symmetric zero border.`);
        }
        if (!n.input?.[2]) {
          throw new GraphRefused(`${where} has no bias.`);
        }
        if (!reluFollows) {
          throw new GraphRefused(`${where} is not followed by a Relu; every AlexNet convolution is.`);
        }
        layers.push({
          kind: 'conv', node: where, filters: shape[0]!, kernel: k[0]!, stride: strides[0]!, padding: pads[0]!, groups: int(n, 'group', 1),
          weight: floats(wt, n, i), weightShape: shape, bias: floats(weightOf(n, i, 2, 'bias'), n, i),
        });
        current = next!.output![0]!;
        i++;
        continue;
      }
      case 'LRN': {
        const size = int(n, 'size', 0);
        if (size < 1 || size % 2 === 0) {
          throw new GraphRefused(`${where}: LRN size ${size} is not an odd window.`);
        }
        layers.push({ kind: 'lrn', node: where, size, alpha: float(n, 'alpha', 1e-4), beta: float(n, 'beta', 0.75), bias: float(n, 'bias', 1) });
        break;
      }
      case 'MaxPool': {
        const k = ints(n, 'kernel_shape') ?? [];
        const s = ints(n, 'strides') ?? [1, 1];
        const pads = ints(n, 'pads') ?? [0, 0, 0, 0];
        const ceil = int(n, 'ceil_mode', 0) === 1;
        if (k.length !== 2 || k[0] !== k[1] || s[0] !== s[1] || pads[0] !== pads[1] || pads[2] !== pads[3] || (ints(n, 'dilations') ?? [1, 1]).some((d) => d !== 1) || attr(n, 'auto_pad')) {
          throw new GraphRefused(`${where}: pooling window [${k.join(', ')}], strides [${s.join(', ')}], pads [${pads.join(', ')}] is not a square pool with the same border on both axes.`);
        }
        const valid = pads.every((p) => p === 0) && !ceil;
        layers.push({ kind: 'maxpool', node: where, pool: k[0]!, stride: s[0]!, padding: valid ? 'valid' : 'same' });
        // Whether 'same' reproduces these pads and ceil mode depends on the size: checked in checkPoolPadding.
        poolAttrs.set(layers.at(-1)!, { before: pads[0]!, after: pads[2]!, ceil });
        break;
      }
      case 'AveragePool':
      case 'GlobalAveragePool': {
        // torchvision's AdaptiveAvgPool2d((6, 6)) on a 6×6 map exports as a 1×1 average: the identity.
        const k = ints(n, 'kernel_shape') ?? [];
        const s = ints(n, 'strides') ?? [1, 1];
        const identity = n.opType === 'AveragePool' && k.every((v) => v === 1) && s.every((v) => v === 1) && (ints(n, 'pads') ?? [0]).every((p) => p === 0);
        if (!identity) {
          throw new GraphRefused(`${where}: only a 1×1 average pool (the identity torchvision's adaptive pool exports as) is supported.`);
        }
        break;
      }
      case 'Flatten':
        if (int(n, 'axis', 1) !== 1) {
          throw new GraphRefused(`${where}: Flatten on axis ${int(n, 'axis', 1)}; expected axis 1.`);
        }
        layers.push({ kind: 'flatten', node: where });
        break;
      case 'Reshape': {
        const shape = tensorInts(weightOf(n, i, 1, 'shape'));
        if (shape.length !== 2 || !(shape[0] === -1 || shape[0] === 0 || shape[0] === 1) || layers.some((l) => l.kind === 'flatten' || l.kind === 'dense')) {
          throw new GraphRefused(`${where}: Reshape to [${shape.join(', ')}] is not the flatten before the first fully connected layer.`);
        }
        layers.push({ kind: 'flatten', node: where });
        break;
      }
      case 'Gemm': {
        const wt = weightOf(n, i, 1, 'weight');
        const shape = (wt.dims ?? []).map(Number);
        const transposed = int(n, 'transB', 0) === 1;
        if (int(n, 'transA', 0) !== 0 || float(n, 'alpha', 1) !== 1 || float(n, 'beta', 1) !== 1 || shape.length !== 2 || !n.input?.[2]) {
          throw new GraphRefused(`${where}: only Gemm with alpha = beta = 1, no transA, a 2-D weight and a bias is supported.`);
        }
        const [units, inputs] = transposed ? [shape[0]!, shape[1]!] : [shape[1]!, shape[0]!];
        layers.push({ kind: 'dense', node: where, units, inputs, relu: reluFollows, transposed, weight: floats(wt, n, i), bias: floats(weightOf(n, i, 2, 'bias'), n, i) });
        if (reluFollows) {
          current = next!.output![0]!;
          i++;
          continue;
        }
        break;
      }
      case 'Dropout':
      case 'Identity':
        break;
      case 'Softmax': {
        const axis = int(n, 'axis', model.opsetImport?.some((o) => (o.domain ?? '') === '' && Number(o.version) < 13) ? 1 : -1);
        if (axis !== 1 && axis !== -1) {
          throw new GraphRefused(`${where}: Softmax over axis ${axis}, not over the classes.`);
        }
        endsWithSoftmax = true;
        break;
      }
      default:
        throw new GraphRefused(`${where}: operator ${n.opType} is not part of an AlexNet.`);
    }
    current = n.output?.[0] ?? '';
  }
  const outputs = graph.output ?? [];
  if (outputs.length !== 1 || outputs[0]!.name !== current) {
    throw new GraphRefused(`The graph's output (${outputs.map((o) => o.name).join(', ')}) is not the end of its chain of layers (${current}).`);
  }
  return { layers, inputName: input.name, inputSize, endsWithSoftmax };
}

const poolAttrs = new WeakMap<GraphLayer, { before: number; after: number; ceil: boolean }>();

/**
 * Checks a max-pool's ONNX border against what its layer spec will do at input side `size`: 'valid', or TF's
 * 'same' (pad floor(total/2) before, the rest after); the windows must start at the same place and be as many.
 */
export function checkPoolPadding(layer: Extract<GraphLayer, { kind: 'maxpool' }>, size: number): void {
  const a = poolAttrs.get(layer);
  if (!a || layer.padding === 'valid') {
    return;
  }
  const onnx = onnxOut(size, layer.pool, layer.stride, a.before, a.after, a.ceil);
  const same = Math.ceil(size / layer.stride);
  const before = Math.floor(Math.max((same - 1) * layer.stride + layer.pool - size, 0) / 2);
  const valid = Math.floor((size - layer.pool) / layer.stride) + 1;
  if (a.before === 0 && onnx === valid) {
    layer.padding = 'valid';
    return;
  }
  if (onnx !== same || a.before !== before) {
    throw new GraphRefused(`${layer.node}: a ${size}×${size} map pooled with pads [${a.before}, ${a.after}]${a.ceil ? ' in ceil mode' : ''} gives ${onnx}×${onnx}, which neither 'valid' (${valid}) nor 'same' (${same}, border ${before} before) reproduces.`);
  }
}
