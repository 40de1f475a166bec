import type * as tf from '@tensorflow/tfjs';
import type { ArchName } from '../api/runs.js';
import { alexnet, alexnetTopology } from './alexnet.js';
import { alexnet2012, alexnet2012Topology } from './alexnet-2012.js';
import { alexnetSmall, alexnetSmallTopology } from './alexnet-small.js';
import { seedKernels, type InitScheme } from './initializers.js';
import { describeTopology, type LayerRow, type LayerSpec, type TopologyOptions } from './layer-spec.js';

export { GroupedConv2D } from './grouped-conv2d.js';
export { LocalResponseNormalization } from './lrn-layer.js';
export type { InitScheme } from './initializers.js';
export type { LayerRow, LayerSpec } from './layer-spec.js';

/** Names of the architectures the product trains (the contract's enum, re-exported for the model code). */
export type { ArchName };

/** What the UI and trainer need to know about an architecture before building it. */
export interface ArchInfo {
  name: ArchName;
  title: string;
  description: string;
  /** Side of the square network input, in pixels. */
  defaultInputSize: number;
  /** Side images are packed at in the cache; training takes random crops of `defaultInputSize` from it (256→224 in the paper). */
  defaultPackSize: number;
  defaultInit: InitScheme;
  defaultLrn: boolean;
}

/** Metadata of every architecture, by name. */
export const ARCHS: Readonly<Record<ArchName, ArchInfo>> = {
  'alexnet-2012': {
    name: 'alexnet-2012',
    title: 'AlexNet (2012 paper)',
    description: 'The NIPS 2012 network exactly: two towers (grouped conv2/4/5), LRN, 224 px, ~61M parameters.',
    defaultInputSize: 224,
    defaultPackSize: 256,
    defaultInit: 'paper',
    defaultLrn: true,
  },
  alexnet: {
    name: 'alexnet',
    title: 'AlexNet (one tower)',
    description: "torchvision's single-tower AlexNet, 64-192-384-256-256 kernels, 224 px; LRN optional.",
    defaultInputSize: 224,
    defaultPackSize: 256,
    defaultInit: 'he',
    defaultLrn: false,
  },
  'alexnet-small': {
    name: 'alexnet-small',
    title: 'AlexNet small (32–64 px)',
    description: "AlexNet's shape scaled for CIFAR/MNIST-sized images; trains on a CPU in minutes.",
    defaultInputSize: 32,
    defaultPackSize: 36,
    defaultInit: 'he',
    defaultLrn: true,
  },
};

/** Per-run model switches; anything left out takes the architecture's default. */
export interface ModelOptions {
  numClasses: number;
  inputSize?: number;
  lrn?: boolean;
  /** Dropout rate before fc6 and fc7; 0 removes the dropout layers. */
  dropout?: number;
  init?: InitScheme;
  /** Seeds the kernels' initial draw (a run's config seed): the same seed, the same starting weights. */
  seed?: number;
}

const TOPOLOGIES: Record<ArchName, (o: TopologyOptions) => LayerSpec[]> = {
  'alexnet-2012': alexnet2012Topology,
  alexnet: alexnetTopology,
  'alexnet-small': alexnetSmallTopology,
};

const BUILDERS: Record<ArchName, (o: TopologyOptions & { init: InitScheme }) => tf.LayersModel> = {
  'alexnet-2012': alexnet2012,
  alexnet,
  'alexnet-small': alexnetSmall,
};

function resolve(arch: ArchName, o: ModelOptions): TopologyOptions & { init: InitScheme } {
  const info = ARCHS[arch];
  if (!info) {
    throw new Error(`unknown architecture '${String(arch)}'; expected one of ${Object.keys(ARCHS).join(', ')}`);
  }
  if (!Number.isInteger(o.numClasses) || o.numClasses < 2) {
    throw new Error(`numClasses must be an integer ≥ 2, got ${o.numClasses}`);
  }
  const dropout = o.dropout ?? 0.5;
  if (!(dropout >= 0 && dropout < 1)) {
    throw new Error(`dropout must be in [0, 1), got ${dropout}`);
  }
  return {
    numClasses: o.numClasses,
    inputSize: o.inputSize ?? info.defaultInputSize,
    lrn: o.lrn ?? info.defaultLrn,
    dropout,
    init: o.init ?? info.defaultInit,
  };
}

/** Builds an architecture as an uncompiled tf.LayersModel (the trainer owns optimizer and loss). */
export function buildModel(arch: ArchName, options: ModelOptions): tf.LayersModel {
  const resolved = resolve(arch, options);
  const model = BUILDERS[arch](resolved);
  if (options.seed !== undefined) {
    seedKernels(model, resolved.init, options.seed);
  }
  return model;
}

/** The topology of an architecture as data: each layer with its output shape and parameter count. */
export function describeModel(arch: ArchName, options: ModelOptions): LayerRow[] {
  const o = resolve(arch, options);
  return describeTopology(TOPOLOGIES[arch](o), o.inputSize);
}
