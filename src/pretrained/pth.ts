import { unzipSync } from 'fflate';
import { PickleRefused, unpickle, type PickledTensor, type PickleValue } from './pickle.js';

/** A float32 weight read from a file, with its shape in the file's own layout. */
export interface NamedWeight {
  shape: number[];
  data: Float32Array;
}

/** Weights by name, in the file's order. */
export type WeightMap = Map<string, NamedWeight>;

/** Thrown for a file that is not a readable state_dict; the message is a sentence for the user. */
export class PthRefused extends Error {}

function isTensor(v: PickleValue): v is PickledTensor {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) && v.kind === 'tensor';
}

/** The values of a storage's bytes as float32 (float32 as is, float64 narrowed); other dtypes are refused. */
function storageFloats(bytes: Uint8Array, dtype: string, numel: number, name: string): Float32Array {
  const width = dtype === 'float64' ? 8 : 4;
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new PthRefused(`Weight ${name} is stored as ${dtype}; only float32 (or float64) weights can be imported.`);
  }
  if (bytes.byteLength < numel * width) {
    throw new PthRefused(`The storage of ${name} holds ${bytes.byteLength} bytes, fewer than its ${numel} values need; the file is truncated or damaged.`);
  }
  const copy = new Uint8Array(numel * width);
  copy.set(bytes.subarray(0, numel * width));
  return dtype === 'float32' ? new Float32Array(copy.buffer) : Float32Array.from(new Float64Array(copy.buffer));
}

/** The tensor's values in row-major order of its shape (follows its strides and offset). */
function tensorValues(t: PickledTensor, storage: Float32Array, name: string): Float32Array {
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (t.shape.length !== t.stride.length) {
    throw new PthRefused(`Weight ${name} has ${t.shape.length} dimensions but ${t.stride.length} strides; the file is damaged.`);
  }
  const last = t.offset + t.shape.reduce((acc, d, i) => acc + (d - 1) * t.stride[i]!, 0);
  if (count > 0 && last >= storage.length) {
    throw new PthRefused(`Weight ${name} reaches past the end of its storage; the file is damaged.`);
  }
  const contiguous = t.shape.every((_, i) => t.shape[i] === 1 || t.stride[i] === t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  if (contiguous) {
    return storage.slice(t.offset, t.offset + count);
  }
  const out = new Float32Array(count);
  const index = new Array<number>(t.shape.length).fill(0);
  for (let n = 0; n < count; n++) {
    let at = t.offset;
    index.forEach((v, i) => (at += v * t.stride[i]!));
    out[n] = storage[at]!;
    for (let i = index.length - 1; i >= 0; i--) {
      if (++index[i]! < t.shape[i]!) {
        break;
      }
      index[i] = 0;
    }
  }
  return out;
}

/**
 * Reads a PyTorch state_dict saved by torch.save (the zip format of PyTorch ≥ 1.6: `<name>/data.pkl` and one
 * `<name>/data/<key>` entry per storage) into float32 weights by name. The pickle is interpreted by a closed
 * reader (pickle.ts); nothing in the file is executed. Anything else is refused with a sentence saying why.
 */
export function readStateDict(bytes: Uint8Array): WeightMap {
  if (bytes[0] === 0x80 && bytes[1] === 0x02) {
    throw new PthRefused('This .pth was saved by PyTorch before 1.6 (the legacy format); load it in PyTorch and save it again with torch.save(model.state_dict(), path).');
  }
  if (!(bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04)) {
    throw new PthRefused('This file is not a PyTorch .pth (torch.save writes a zip archive; this one does not start like one).');
  }
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, { filter: (f) => /(^|\/)data\.pkl$|(^|\/)data\/[^/]+$|(^|\/)byteorder$/.test(f.name) });
  } catch (err) {
    throw new PthRefused(`This .pth is not a readable zip archive (${(err as Error).message}); the file is truncated or damaged.`);
  }
  const pkl = Object.keys(entries).find((n) => /(^|\/)data\.pkl$/.test(n));
  if (pkl === undefined) {
    throw new PthRefused('This zip archive has no data.pkl; it is not a file written by torch.save.');
  }
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const order = entries[`${prefix}byteorder`];
  if (order && new TextDecoder().decode(order).trim() !== 'little') {
    throw new PthRefused('This .pth was written on a big-endian machine; its weights cannot be read here.');
  }
  let root: PickleValue;
  try {
    root = unpickle(entries[pkl]!);
  } catch (err) {
    throw err instanceof PickleRefused ? new PthRefused(err.message) : err;
  }
  if (root instanceof Map && !([...root.values()].some(isTensor)) && root.get('state_dict') instanceof Map) {
    root = root.get('state_dict')!; // a training checkpoint {'state_dict': …, 'epoch': …}
  }
  if (!(root instanceof Map)) {
    throw new PthRefused('This .pth does not hold a state_dict (a dict of weights by name); save model.state_dict(), not the model object.');
  }
  const storages = new Map<string, Float32Array>();
  const weights: WeightMap = new Map();
  for (const [key, value] of root) {
    if (typeof key !== 'string') {
      throw new PthRefused('This state_dict has a key that is not a string.');
    }
    if (!isTensor(value)) {
      throw new PthRefused(`Entry ${key} of this state_dict is not a tensor.`);
    }
    const s = value.storage;
    let floats = storages.get(s.key);
    if (!floats) {
      const raw = entries[`${prefix}data/${s.key}`];
      if (!raw) {
        throw new PthRefused(`The storage of ${key} (data/${s.key}) is missing from the archive; the file is truncated or damaged.`);
      }
      floats = storageFloats(raw, s.dtype, s.numel, key);
      storages.set(s.key, floats);
    }
    weights.set(key, { shape: value.shape, data: tensorValues(value, floats, key) });
  }
  return weights;
}
