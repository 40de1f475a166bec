/** One tensor of a safetensors file: dtype, shape and its raw little-endian bytes. */
export interface NamedTensor {
  dtype: 'F32' | 'U8' | 'I64';
  shape: number[];
  data: Uint8Array;
}

const BYTES: Record<NamedTensor['dtype'], number> = { F32: 4, U8: 1, I64: 8 };

/**
 * Encodes tensors in the safetensors format (8-byte little-endian header length, a JSON header of
 * dtype/shape/data_offsets per name, then the raw data), readable by plain PyTorch without the package.
 */
export function encodeSafetensors(tensors: Record<string, NamedTensor>, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = Object.keys(metadata).length ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const expected = t.shape.reduce((a, b) => a * b, 1) * BYTES[t.dtype];
    if (t.data.byteLength !== expected) {
      throw new Error(`${name}: ${t.data.byteLength} bytes for shape [${t.shape.join(', ')}] ${t.dtype}, expected ${expected}`);
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + expected] };
    offset += expected;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8); // the data starts 8-byte aligned
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([head, Buffer.from(json), ...Object.values(tensors).map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))]);
}

/** Decodes a safetensors file; throws with the reason when it is not one. */
export function decodeSafetensors(bytes: Uint8Array): Record<string, NamedTensor> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 8) {
    throw new Error('not a safetensors file: shorter than its 8-byte header length');
  }
  const n = Number(buf.readBigUInt64LE(0));
  if (n > buf.length - 8) {
    throw new Error(`not a safetensors file: header of ${n} bytes in a file of ${buf.length}`);
  }
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as typeof header;
  } catch {
    throw new Error('not a safetensors file: its header is not JSON');
  }
  const out: Record<string, NamedTensor> = {};
  const base = 8 + n;
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') {
      continue;
    }
    if (!(t.dtype in BYTES)) {
      throw new Error(`${name}: dtype ${t.dtype} is not supported (F32, U8, I64)`);
    }
    const [from, to] = t.data_offsets;
    const size = t.shape.reduce((a, b) => a * b, 1) * BYTES[t.dtype as NamedTensor['dtype']];
    if (to - from !== size || base + to > buf.length) {
      throw new Error(`${name}: data offsets [${from}, ${to}] do not fit shape [${t.shape.join(', ')}] in the file`);
    }
    // A copy: aligned for Float32Array views, and independent of the file's buffer.
    out[name] = { dtype: t.dtype as NamedTensor['dtype'], shape: t.shape, data: new Uint8Array(buf.subarray(base + from, base + to)) };
  }
  return out;
}

/** A float32 tensor's values. */
export function floatsOf(t: NamedTensor): Float32Array {
  if (t.dtype !== 'F32') {
    throw new Error(`expected F32, got ${t.dtype}`);
  }
  return new Float32Array(t.data.buffer, t.data.byteOffset, t.data.byteLength / 4);
}

/** A float32 tensor from values. */
export function f32(shape: number[], values: Float32Array): NamedTensor {
  return { dtype: 'F32', shape, data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}
