// Weights between our layout (TF.js: NHWC activations, HWIO conv kernels, [in, out] dense kernels,
// flatten in H·W·C order) and PyTorch's (NCHW, OIHW, [out, in], flatten in C·H·W order), by layer name.
import type { LayerRow } from '../../model/layer-spec.js';
import { f32, floatsOf, type NamedTensor } from './safetensors.js';

/** One weight of a TF.js model as its weightSpecs list it. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype?: string;
}

/** For each dense layer fed by a flatten: the [H, W, C] shape that was flattened. */
function flattenedShapes(rows: LayerRow[]): Map<string, [number, number, number]> {
  const out = new Map<string, [number, number, number]>();
  let image: number[] | null = null;
  let flattened: [number, number, number] | null = null;
  for (const row of rows) {
    if (row.spec.kind === 'flatten' && image) {
      flattened = [image[0]!, image[1]!, image[2]!];
    } else if (row.spec.kind === 'dense') {
      if (flattened) {
        out.set(row.spec.name, flattened);
      }
      flattened = null;
    }
    if (row.outputShape.length === 3) {
      image = row.outputShape;
    }
  }
  return out;
}

/** Our [kh, kw, in, out] kernel as PyTorch's [out, in, kh, kw]. */
function hwioToOihw(v: Float32Array, [kh, kw, ci, co]: number[]): Float32Array {
  const out = new Float32Array(v.length);
  for (let y = 0; y < kh!; y++) {
    for (let x = 0; x < kw!; x++) {
      for (let i = 0; i < ci!; i++) {
        for (let o = 0; o < co!; o++) {
          out[((o * ci! + i) * kh! + y) * kw! + x] = v[((y * kw! + x) * ci! + i) * co! + o]!;
        }
      }
    }
  }
  return out;
}

function oihwToHwio(v: Float32Array, [kh, kw, ci, co]: number[]): Float32Array {
  const out = new Float32Array(v.length);
  for (let y = 0; y < kh!; y++) {
    for (let x = 0; x < kw!; x++) {
      for (let i = 0; i < ci!; i++) {
        for (let o = 0; o < co!; o++) {
          out[((y * kw! + x) * ci! + i) * co! + o] = v[((o * ci! + i) * kh! + y) * kw! + x]!;
        }
      }
    }
  }
  return out;
}

/** Row index in our flatten order (h, w, c) of PyTorch's flatten index (c, h, w). */
function ourRow(torchIndex: number, [h, w, c]: [number, number, number]): number {
  const ch = Math.floor(torchIndex / (h * w));
  const rest = torchIndex % (h * w);
  return rest * c + ch;
}

/** Our [in, out] dense kernel as PyTorch's [out, in], with the rows of a flattened input reordered to C·H·W. */
function denseToTorch(v: Float32Array, [nin, nout]: number[], flat: [number, number, number] | undefined): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < nin!; i++) {
    const src = flat ? ourRow(i, flat) : i;
    for (let o = 0; o < nout!; o++) {
      out[o * nin! + i] = v[src * nout! + o]!;
    }
  }
  return out;
}

function denseFromTorch(v: Float32Array, [nin, nout]: number[], flat: [number, number, number] | undefined): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < nin!; i++) {
    const dst = flat ? ourRow(i, flat) : i;
    for (let o = 0; o < nout!; o++) {
      out[dst * nout! + o] = v[o * nin! + i]!;
    }
  }
  return out;
}

/** Splits a TF.js weightData buffer into named float32 arrays, in weightSpecs order. */
export function splitWeights(specs: WeightSpec[], data: ArrayBuffer): Map<string, { shape: number[]; values: Float32Array }> {
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  let offset = 0;
  for (const s of specs) {
    if (s.dtype !== undefined && s.dtype !== 'float32') {
      throw new Error(`${s.name}: dtype ${s.dtype}; only float32 weights are exported`);
    }
    const n = s.shape.reduce((a, b) => a * b, 1);
    out.set(s.name, { shape: s.shape, values: new Float32Array(data.slice(offset, offset + n * 4)) });
    offset += n * 4;
  }
  if (offset !== data.byteLength) {
    throw new Error(`the weights hold ${data.byteLength} bytes, their specs ${offset}`);
  }
  return out;
}

const layerOf = (name: string): [string, string] => {
  const slash = name.lastIndexOf('/');
  return [name.slice(0, slash), name.slice(slash + 1)];
};

/** Our weights (TF.js names `conv1/kernel`) as a PyTorch state dict (`conv1.weight`), converted to its layouts. */
export function toTorchState(rows: LayerRow[], specs: WeightSpec[], data: ArrayBuffer): Record<string, NamedTensor> {
  const flats = flattenedShapes(rows);
  const kinds = new Map(rows.map((r) => [r.spec.name, r.spec.kind]));
  const out: Record<string, NamedTensor> = {};
  for (const [name, { shape, values }] of splitWeights(specs, data)) {
    const [layer, part] = layerOf(name);
    const kind = kinds.get(layer);
    if (part === 'bias') {
      out[`${layer}.bias`] = f32(shape, values);
    } else if (part === 'kernel' && kind === 'conv') {
      out[`${layer}.weight`] = f32([shape[3]!, shape[2]!, shape[0]!, shape[1]!], hwioToOihw(values, shape));
    } else if (part === 'kernel' && kind === 'dense') {
      out[`${layer}.weight`] = f32([shape[1]!, shape[0]!], denseToTorch(values, shape, flats.get(layer)));
    } else {
      throw new Error(`weight ${name} belongs to no conv or dense layer of the topology`);
    }
  }
  return out;
}

/**
 * A PyTorch state dict back in our layout, as one weightData buffer in `specs` order (the order of the
 * run's own checkpoint). Throws, naming the weight, when one is missing or has another shape.
 */
export function fromTorchState(rows: LayerRow[], specs: WeightSpec[], state: Record<string, NamedTensor>): ArrayBuffer {
  const flats = flattenedShapes(rows);
  const parts: Float32Array[] = [];
  for (const s of specs) {
    const [layer, part] = layerOf(s.name);
    const key = `${layer}.${part === 'kernel' ? 'weight' : 'bias'}`;
    const t = state[key];
    if (!t) {
      throw new Error(`the result weights have no ${key}`);
    }
    const want = part === 'bias' ? s.shape : s.shape.length === 4 ? [s.shape[3]!, s.shape[2]!, s.shape[0]!, s.shape[1]!] : [s.shape[1]!, s.shape[0]!];
    if (t.shape.join('x') !== want.join('x')) {
      throw new Error(`${key} has shape [${t.shape.join(', ')}], the network needs [${want.join(', ')}]`);
    }
    const v = floatsOf(t);
    parts.push(part === 'bias' ? v : s.shape.length === 4 ? oihwToHwio(v, s.shape) : denseFromTorch(v, s.shape, flats.get(layer)));
  }
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Float32Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out.buffer;
}
