// AlexNet in its one-tower form as torchvision ships it (models/alexnet.py, after Krizhevsky,
// "One weird trick for parallelizing convolutional neural networks", 2014): the paper's five
// convolutional and three FC layers with 64-192-384-256-256 kernels and no towers. torchvision
// has no LRN; here it is a per-run switch, placed as in the paper (after conv1/conv2's ReLU).
import { buildFromSpecs } from './build.js';
import type { InitScheme } from './initializers.js';
import { PAPER_LRN, classifierHead, type LayerSpec, type TopologyOptions } from './layer-spec.js';

/** Topology of single-tower AlexNet; 61,100,840 parameters for 1000 classes at 224 px. */
export function alexnetTopology(o: TopologyOptions): LayerSpec[] {
  const lrn = (name: string): LayerSpec[] => (o.lrn ? [{ kind: 'lrn', name, ...PAPER_LRN }] : []);
  return [
    { kind: 'conv', name: 'conv1', filters: 64, kernel: 11, stride: 4, padding: 2, groups: 1, paperBias: 0 },
    ...lrn('lrn1'),
    { kind: 'maxpool', name: 'pool1', pool: 3, stride: 2 },
    { kind: 'conv', name: 'conv2', filters: 192, kernel: 5, stride: 1, padding: 2, groups: 1, paperBias: 1 },
    ...lrn('lrn2'),
    { kind: 'maxpool', name: 'pool2', pool: 3, stride: 2 },
    { kind: 'conv', name: 'conv3', filters: 384, kernel: 3, stride: 1, padding: 1, groups: 1, paperBias: 0 },
    { kind: 'conv', name: 'conv4', filters: 256, kernel: 3, stride: 1, padding: 1, groups: 1, paperBias: 1 },
    { kind: 'conv', name: 'conv5', filters: 256, kernel: 3, stride: 1, padding: 1, groups: 1, paperBias: 1 },
    { kind: 'maxpool', name: 'pool5', pool: 3, stride: 2 },
    ...classifierHead(4096, o.numClasses, o.dropout),
  ];
}

/** Builds single-tower AlexNet (uncompiled). */
export function alexnet(o: TopologyOptions & { init: InitScheme }) {
  return buildFromSpecs('alexnet', alexnetTopology(o), o.inputSize, o.init);
}
