// AlexNet's shape (Krizhevsky, Sutskever & Hinton, NIPS 2012) scaled for 32–64 px images
// (CIFAR/MNIST-sized data) so that it trains in minutes on a CPU: the same five convolutional
// layers (LRN after conv1/conv2, overlapping 3×3/2 pooling after conv1, conv2, conv5) and three
// FC layers with dropout, but 32-64-96-96-64 kernels, 5×5/3×3 filters at stride 1 (an 11×11/4
// first layer would discard most of a 32 px image) and 256-unit FC layers. About 0.46M
// parameters and 24M multiply-adds per 32 px image, 1/30 of AlexNet's.
import { buildFromSpecs } from './build.js';
import type { InitScheme } from './initializers.js';
import { PAPER_LRN, classifierHead, type LayerSpec, type TopologyOptions } from './layer-spec.js';

/** Topology of the small AlexNet for 32–64 px inputs. */
export function alexnetSmallTopology(o: TopologyOptions): LayerSpec[] {
  const lrn = (name: string): LayerSpec[] => (o.lrn ? [{ kind: 'lrn', name, ...PAPER_LRN }] : []);
  return [
    { kind: 'conv', name: 'conv1', filters: 32, kernel: 5, stride: 1, padding: 'same', groups: 1, paperBias: 0 },
    ...lrn('lrn1'),
    { kind: 'maxpool', name: 'pool1', pool: 3, stride: 2 },
    { kind: 'conv', name: 'conv2', filters: 64, kernel: 5, stride: 1, padding: 'same', groups: 1, paperBias: 1 },
    ...lrn('lrn2'),
    { kind: 'maxpool', name: 'pool2', pool: 3, stride: 2 },
    { kind: 'conv', name: 'conv3', filters: 96, kernel: 3, stride: 1, padding: 'same', groups: 1, paperBias: 0 },
    { kind: 'conv', name: 'conv4', filters: 96, kernel: 3, stride: 1, padding: 'same', groups: 1, paperBias: 1 },
    { kind: 'conv', name: 'conv5', filters: 64, kernel: 3, stride: 1, padding: 'same', groups: 1, paperBias: 1 },
    { kind: 'maxpool', name: 'pool5', pool: 3, stride: 2 },
    ...classifierHead(256, o.numClasses, o.dropout),
  ];
}

/** Builds the small AlexNet (uncompiled). */
export function alexnetSmall(o: TopologyOptions & { init: InitScheme }) {
  return buildFromSpecs('alexnet-small', alexnetSmallTopology(o), o.inputSize, o.init);
}
