// AlexNet exactly as in Krizhevsky, Sutskever & Hinton, "ImageNet Classification with Deep
// Convolutional Neural Networks", NIPS 2012 (Fig. 2, §3): five convolutional and three fully
// connected layers, ReLU everywhere, LRN after conv1/conv2, overlapping 3×3/2 max-pooling,
// dropout 0.5 before fc6/fc7. conv2, conv4 and conv5 only see the kernel maps on their own GPU,
// which is a 2-group convolution; conv3 and the FC layers connect across both towers.
import { buildFromSpecs } from './build.js';
import type { InitScheme } from './initializers.js';
import { PAPER_LRN, classifierHead, type LayerSpec, type TopologyOptions } from './layer-spec.js';

/** Topology of paper-exact AlexNet; 60,965,224 parameters for 1000 classes. */
export function alexnet2012Topology(o: TopologyOptions): LayerSpec[] {
  const lrn = (name: string): LayerSpec[] => (o.lrn ? [{ kind: 'lrn', name, ...PAPER_LRN }] : []);
  return [
    // The paper says 224×224 but 55×55 outputs need a 227 extent; a 2-pixel border (as torchvision) gives 55.
    { kind: 'conv', name: 'conv1', filters: 96, kernel: 11, stride: 4, padding: 2, groups: 1, paperBias: 0 },
    ...lrn('lrn1'),
    { kind: 'maxpool', name: 'pool1', pool: 3, stride: 2 },
    { kind: 'conv', name: 'conv2', filters: 256, kernel: 5, stride: 1, padding: 'same', groups: 2, paperBias: 1 },
    ...lrn('lrn2'),
    { kind: 'maxpool', name: 'pool2', pool: 3, stride: 2 },
    { kind: 'conv', name: 'conv3', filters: 384, kernel: 3, stride: 1, padding: 'same', groups: 1, paperBias: 0 },
    { kind: 'conv', name: 'conv4', filters: 384, kernel: 3, stride: 1, padding: 'same', groups: 2, paperBias: 1 },
    { kind: 'conv', name: 'conv5', filters: 256, kernel: 3, stride: 1, padding: 'same', groups: 2, paperBias: 1 },
    { kind: 'maxpool', name: 'pool5', pool: 3, stride: 2 },
    ...classifierHead(4096, o.numClasses, o.dropout),
  ];
}

/** Builds paper-exact AlexNet (uncompiled). */
export function alexnet2012(o: TopologyOptions & { init: InitScheme }) {
  return buildFromSpecs('alexnet-2012', alexnet2012Topology(o), o.inputSize, o.init);
}
