import { packSizeFor } from '../images/pack-images.js';
import { alexnetTopology } from '../model/alexnet.js';
import { describeTopology } from '../model/layer-spec.js';
import { classNamesFor, TORCHVISION_NORM } from './imagenet-classes.js';
import type { ImportedNetwork } from './imported-network.js';
import { chwRowsToHwc, oihwToHwio, outInToInOut } from './layouts.js';
import { PthRefused, type WeightMap } from './pth.js';

/** torchvision's AlexNet state_dict keys (models/alexnet.py) → our layer names. */
const KEYS: Array<[string, string]> = [
  ['features.0', 'conv1'],
  ['features.3', 'conv2'],
  ['features.6', 'conv3'],
  ['features.8', 'conv4'],
  ['features.10', 'conv5'],
  ['classifier.1', 'fc6'],
  ['classifier.4', 'fc7'],
  ['classifier.6', 'fc8'],
];

const INPUT_SIZE = 224;

/**
 * A torchvision AlexNet state_dict as our `alexnet` (the same single-tower topology, no LRN, dropout 0.5):
 * conv kernels OIHW → HWIO, Linear weights transposed, fc6's rows re-ordered from torchvision's C,H,W flatten to
 * tfjs' H,W,C. Input rule: torchvision's (short side 256, centre 224, ImageNet mean/std). Any other key or shape is
 * refused by name.
 */
export function alexnetFromTorchvision(weights: WeightMap): ImportedNetwork {
  const known = new Set(KEYS.flatMap(([k]) => [`${k}.weight`, `${k}.bias`]));
  const extra = [...weights.keys()].find((k) => !known.has(k));
  if (extra !== undefined) {
    throw new PthRefused(`This state_dict is not torchvision's AlexNet: it has a weight "${extra}" that AlexNet does not (expected ${[...known].join(', ')}).`);
  }
  const classes = weights.get('classifier.6.weight')?.shape[0] ?? 0;
  const specs = alexnetTopology({ numClasses: classes || 1000, inputSize: INPUT_SIZE, lrn: false, dropout: 0.5 });
  const rows = describeTopology(specs, INPUT_SIZE);
  const out = new Map<string, [Float32Array, Float32Array]>();
  let previous: number[] = [INPUT_SIZE, INPUT_SIZE, 3];
  for (const row of rows) {
    const spec = row.spec;
    if (spec.kind === 'conv' || spec.kind === 'dense') {
      const key = KEYS.find(([, name]) => name === spec.name)![0];
      const w = weights.get(`${key}.weight`);
      const b = weights.get(`${key}.bias`);
      const inputs = previous.at(-1)!;
      const expectW = spec.kind === 'conv' ? [spec.filters, inputs, spec.kernel, spec.kernel] : [spec.units, previous.reduce((a, x) => a * x, 1)];
      const units = spec.kind === 'conv' ? spec.filters : spec.units;
      if (!w || !b) {
        throw new PthRefused(`This state_dict is not torchvision's AlexNet: ${!w ? `${key}.weight` : `${key}.bias`} is missing.`);
      }
      if (JSON.stringify(w.shape) !== JSON.stringify(expectW) || JSON.stringify(b.shape) !== JSON.stringify([units])) {
        throw new PthRefused(`This state_dict is not torchvision's AlexNet: ${key}.weight is [${w.shape.join(', ')}] and ${key}.bias [${b.shape.join(', ')}], expected [${expectW.join(', ')}] and [${units}].`);
      }
      if (spec.kind === 'conv') {
        out.set(spec.name, [oihwToHwio(w.data, w.shape), b.data]);
      } else {
        const inputsFlat = expectW[1]!;
        let kernel = outInToInOut(w.data, spec.units, inputsFlat);
        if (previous.length === 3) {
          const [h, wd, c] = previous as [number, number, number];
          kernel = chwRowsToHwc(kernel, c, h, wd, spec.units);
        }
        out.set(spec.name, [kernel, b.data]);
      }
    }
    if (spec.kind !== 'flatten' && spec.kind !== 'dropout') {
      previous = row.outputShape;
    }
  }
  return {
    arch: 'alexnet',
    specs,
    weights: out,
    spec: {
      classes: classNamesFor(classes),
      inputSize: INPUT_SIZE,
      resizeSize: packSizeFor(INPUT_SIZE),
      norm: { mean: [...TORCHVISION_NORM.mean], std: [...TORCHVISION_NORM.std] },
      arch: 'alexnet',
      runId: null,
    },
    format: 'torchvision AlexNet state_dict',
  };
}
