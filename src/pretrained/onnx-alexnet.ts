import { z } from 'zod';
import { decodeOnnxModel, type OnnxModel } from '../interchange/onnx-proto.js';
import { MAX_INPUT_SIZE, MAX_RESIZE_SIZE } from '../classify/model-folder.js';
import { packSizeFor } from '../images/pack-images.js';
import { alexnetTopology } from '../model/alexnet.js';
import { alexnet2012Topology } from '../model/alexnet-2012.js';
import { alexnetSmallTopology } from '../model/alexnet-small.js';
import type { ArchName } from '../model/index.js';
import { describeTopology, type LayerSpec, type TopologyOptions } from '../model/layer-spec.js';
import { CAFFE_MEAN_RGB, classNamesFor, TORCHVISION_NORM } from './imagenet-classes.js';
import type { ImportedNetwork } from './imported-network.js';
import { chwRowsToHwc, oihwToHwio, outInToInOut } from './layouts.js';
import { checkPoolPadding, GraphRefused, readGraphChain, type GraphLayer } from './onnx-graph.js';

const TEMPLATES: Record<ArchName, (o: TopologyOptions) => LayerSpec[]> = {
  alexnet: alexnetTopology,
  'alexnet-2012': alexnet2012Topology,
  'alexnet-small': alexnetSmallTopology,
};
/** conv1's filters tell the family apart when the file does not say (torchvision 64, Caffe/paper 96, ours-small 32). */
const BY_CONV1: Record<number, ArchName> = { 64: 'alexnet', 96: 'alexnet-2012', 32: 'alexnet-small' };

/** `convnet.preprocessing` of our own exports (ONNX-CONVENTION.md). */
const OurPreprocessing = z.object({
  resizeSize: z.number().int().min(8).max(MAX_RESIZE_SIZE),
  inputSize: z.number().int().min(8).max(MAX_INPUT_SIZE),
  channelOrder: z.literal('RGB'),
  mean: z.tuple([z.number(), z.number(), z.number()]),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).nullable(),
});

function meta(model: OnnxModel, key: string): string | undefined {
  return (model.metadataProps ?? []).find((p) => p.key === key)?.value;
}

/** What kind of file this is, by what it declares: our own export, Caffe's BVLC AlexNet, or a torchvision export. */
type Origin = 'convnet' | 'caffe' | 'torchvision';

function describe(l: GraphLayer): string {
  switch (l.kind) {
    case 'conv':
      return `conv ${l.filters} filters ${l.kernel}×${l.kernel}/${l.stride}, groups ${l.groups}`;
    case 'dense':
      return `fully connected ${l.inputs}→${l.units}`;
    case 'maxpool':
      return `max-pool ${l.pool}×${l.pool}/${l.stride}`;
    default:
      return l.kind;
  }
}

/**
 * An ONNX AlexNet as our network: ONNX model zoo's bvlcalexnet (Caffe: grouped conv2/4/5, LRN, BGR) as
 * `alexnet-2012`, a torchvision export as `alexnet`, our own exports as their `convnet.arch`. The graph is matched
 * layer by layer against the architecture's topology (the first mismatch is named); weights go OIHW→HWIO, Gemm
 * weights to [in, out], fc6's rows from C,H,W to H,W,C; a BGR graph gets conv1's input channels reversed so it takes RGB.
 */
export function alexnetFromOnnx(bytes: Uint8Array): ImportedNetwork {
  let model: OnnxModel;
  try {
    model = decodeOnnxModel(bytes);
  } catch (err) {
    throw new GraphRefused((err as Error).message);
  }
  const chain = readGraphChain(model);
  const layers = chain.layers.filter((l) => l.kind !== 'flatten');
  const convs = layers.filter((l) => l.kind === 'conv');
  const denses = layers.filter((l) => l.kind === 'dense');
  const declared = meta(model, 'convnet.arch');
  const origin: Origin = declared !== undefined ? 'convnet' : convs[0]?.filters === 96 ? 'caffe' : 'torchvision';
  const arch = (declared ?? BY_CONV1[convs[0]?.filters ?? 0]) as ArchName | undefined;
  if (!arch || !(arch in TEMPLATES)) {
    const first = convs[0] ?? layers[0];
    throw new GraphRefused(`${first ? `${first.node} (${describe(first)})` : 'The graph'} does not start an AlexNet (conv1 with 64, 96 or 32 filters)${declared ? `; convnet.arch "${declared}" is not an architecture of this app` : ''}.`);
  }
  let pre: z.infer<typeof OurPreprocessing> | null = null;
  if (origin === 'convnet') {
    try {
      pre = OurPreprocessing.parse(JSON.parse(meta(model, 'convnet.preprocessing') ?? 'null'));
    } catch (err) {
      throw new GraphRefused(`The file's convnet.preprocessing is not valid (${(err as Error).message.split('\n')[0]}).`);
    }
  }
  const inputSize = pre?.inputSize ?? chain.inputSize ?? 224;
  if (chain.inputSize !== null && chain.inputSize !== inputSize) {
    throw new GraphRefused(`The graph's input is ${chain.inputSize}×${chain.inputSize} but its convnet.preprocessing crops ${inputSize}.`);
  }
  const classes = denses.at(-1)?.units ?? 0;
  const template = TEMPLATES[arch]({ numClasses: classes || 1, inputSize, lrn: layers.some((l) => l.kind === 'lrn'), dropout: 0.5 });
  const specs: LayerSpec[] = [];
  const weights = new Map<string, [Float32Array, Float32Array]>();
  const bgr = origin === 'caffe';
  let g = 0;
  let size = inputSize;
  let shape: number[] = [inputSize, inputSize, 3];
  for (const t of template) {
    if (t.kind === 'flatten' || t.kind === 'dropout') {
      specs.push(t);
      continue;
    }
    const l = layers[g++];
    const expected = t.kind === 'conv' ? `conv ${t.filters} filters ${t.kernel}×${t.kernel}/${t.stride}, groups ${t.groups}` : t.kind === 'dense' ? `fully connected →${t.units}` : t.kind === 'maxpool' ? `max-pool ${t.pool}×${t.pool}/${t.stride}` : 'LRN';
    const misfit = (): GraphRefused =>
      new GraphRefused(`${l ? `${l.node} (${describe(l)})` : 'The graph ends early and'} does not fit ${arch}'s ${t.name} (${expected}); this is not an AlexNet the app can import.`);
    if (!l || l.kind !== t.kind) {
      throw misfit();
    }
    if (t.kind === 'conv' && l.kind === 'conv') {
      if (l.filters !== t.filters || l.kernel !== t.kernel || l.stride !== t.stride || l.groups !== t.groups || l.weightShape[1] !== shape[2]! / t.groups) {
        throw misfit();
      }
      specs.push({ ...t, padding: l.padding });
      weights.set(t.name, [oihwToHwio(l.weight, l.weightShape, bgr && t.name === 'conv1'), l.bias]);
    } else if (t.kind === 'lrn' && l.kind === 'lrn') {
      // ONNX (like Caffe and PyTorch) scales α by the window size; tfjs (like the paper and TensorFlow) does not.
      specs.push({ kind: 'lrn', name: t.name, depthRadius: (l.size - 1) / 2, bias: l.bias, alpha: l.alpha / l.size, beta: l.beta });
    } else if (t.kind === 'maxpool' && l.kind === 'maxpool') {
      if (l.pool !== t.pool || l.stride !== t.stride) {
        throw misfit();
      }
      checkPoolPadding(l, size);
      specs.push({ ...t, padding: l.padding });
    } else if (t.kind === 'dense' && l.kind === 'dense') {
      const flat = shape.reduce((a, b) => a * b, 1);
      const last = t.name === 'fc8';
      if ((!last && l.units !== t.units) || l.inputs !== flat || l.relu === last) {
        throw new GraphRefused(`${l.node} (${describe(l)}${l.relu ? ' + Relu' : ''}) does not fit ${arch}'s ${t.name}: it should take the ${flat} values before it${last ? ' and end the network without a Relu' : ` to ${t.units} units with a Relu`}.`);
      }
      specs.push(t);
      let kernel = l.transposed ? outInToInOut(l.weight, l.units, l.inputs) : l.weight;
      if (shape.length === 3) {
        kernel = chwRowsToHwc(kernel, shape[2]!, shape[0]!, shape[1]!, l.units);
      }
      weights.set(t.name, [kernel, l.bias]);
    }
    let rows;
    try {
      rows = describeTopology(specs, inputSize);
    } catch (err) {
      throw new GraphRefused(`${l.node}: ${(err as Error).message}.`);
    }
    shape = rows.at(-1)!.outputShape;
    size = shape[0]!;
  }
  if (g < layers.length) {
    const extra = layers[g]!;
    throw new GraphRefused(`${extra.node} (${describe(extra)}) comes after ${arch}'s last layer; this is not an AlexNet the app can import.`);
  }
  let labels = classNamesFor(classes);
  const labelText = meta(model, 'convnet.labels');
  if (labelText !== undefined) {
    const parsed = z.array(z.string().min(1)).length(classes).safeParse(JSON.parse(labelText));
    if (!parsed.success) {
      throw new GraphRefused(`The file's convnet.labels is not a list of ${classes} class names.`);
    }
    labels = parsed.data;
  }
  const norm = pre
    ? pre.std
      ? { mean: pre.mean, std: pre.std }
      : { mean: pre.mean }
    : bgr
      ? { mean: [...CAFFE_MEAN_RGB] as [number, number, number] }
      : { mean: [...TORCHVISION_NORM.mean] as [number, number, number], std: [...TORCHVISION_NORM.std] as [number, number, number] };
  // Our export names its source run (as a tfjs export folder's preprocessing.json does): kept as provenance.
  const runText = origin === 'convnet' ? meta(model, 'convnet.run') : undefined;
  const sourceRun = runText && /^\d{1,15}$/.test(runText) ? Number(runText) : null;
  const format = origin === 'convnet' ? 'ConvNet Studio ONNX export' : bgr ? 'Caffe BVLC AlexNet (ONNX, BGR input)' : 'torchvision AlexNet (ONNX)';
  return {
    arch,
    specs,
    weights,
    spec: { classes: labels, inputSize, resizeSize: pre?.resizeSize ?? packSizeFor(inputSize), norm, arch, runId: sourceRun },
    format,
  };
}
