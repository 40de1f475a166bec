// Writes PyTorch state_dicts the way torch.save does (zip of data.pkl + one raw storage per tensor, pickle
// protocol 2), so import tests need no Python; parity against real PyTorch lives in test/unit/pretrained/parity.test.ts.
import { zipSync } from 'fflate';

/** One float32 tensor of a state_dict. */
export interface PthTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

const enc = new TextEncoder();
const u32 = (n: number): number[] => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
const str = (s: string): number[] => [0x58, ...u32(enc.encode(s).length), ...enc.encode(s)];
const glob = (module: string, name: string): number[] => [0x63, ...enc.encode(`${module}\n${name}\n`)];
const int = (n: number): number[] => [0x4a, ...u32(n)];
const tuple = (items: number[][]): number[] => [0x28, ...items.flat(), 0x74];

/** The bytes of a .pth holding `tensors` as an OrderedDict state_dict (contiguous, float32). */
export function stateDictPth(tensors: PthTensor[], archive = 'archive'): Uint8Array {
  const p: number[] = [0x80, 0x02, ...glob('collections', 'OrderedDict'), 0x29, 0x52, 0x28];
  const files: Record<string, Uint8Array> = {};
  tensors.forEach((t, i) => {
    const strides = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    p.push(...str(t.name), ...glob('torch._utils', '_rebuild_tensor_v2'), 0x28);
    p.push(...tuple([str('storage'), glob('torch', 'FloatStorage'), str(String(i)), str('cpu'), int(t.data.length)]), 0x51);
    p.push(...int(0), ...tuple(t.shape.map(int)), ...tuple(strides.map(int)), 0x89, ...glob('collections', 'OrderedDict'), 0x29, 0x52, 0x74, 0x52);
    files[`${archive}/data/${i}`] = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  });
  p.push(0x75, 0x2e);
  files[`${archive}/data.pkl`] = Uint8Array.from(p);
  files[`${archive}/version`] = enc.encode('3\n');
  return zipSync(files, { level: 0 });
}

/** torchvision's AlexNet state_dict with seeded weights (uniform ±1/√fan-in, as PyTorch's default init scales them). */
export function seededTorchvisionAlexnet(seed = 7, classes = 1000): PthTensor[] {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const layer = (key: string, shape: number[]): PthTensor[] => {
    const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
    const bound = 2 / Math.sqrt(fanIn);
    const n = shape.reduce((a, b) => a * b, 1);
    return [
      { name: `${key}.weight`, shape, data: Float32Array.from({ length: n }, () => rand() * bound) },
      { name: `${key}.bias`, shape: [shape[0]!], data: Float32Array.from({ length: shape[0]! }, () => rand() * bound) },
    ];
  };
  return [
    ...layer('features.0', [64, 3, 11, 11]),
    ...layer('features.3', [192, 64, 5, 5]),
    ...layer('features.6', [384, 192, 3, 3]),
    ...layer('features.8', [256, 384, 3, 3]),
    ...layer('features.10', [256, 256, 3, 3]),
    ...layer('classifier.1', [4096, 9216]),
    ...layer('classifier.4', [4096, 4096]),
    ...layer('classifier.6', [classes, 4096]),
  ];
}
