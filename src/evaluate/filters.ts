import fs from 'node:fs';
import path from 'node:path';
import { checkpointDir } from '../runs/checkpoint.js';
import { gridLayout, rangeOf, renderGrid, writePng, type GridLayout } from './grid-image.js';

/** The first convolution's kernels as stored: [kh, kw, inChannels, filters] float32, HWIO order. */
export interface KernelTensor {
  layer: string;
  shape: [number, number, number, number];
  values: Float32Array;
}

/**
 * Reads one layer's kernel from a checkpoint without loading the model: finds it in the weights
 * manifest and reads only its bytes from weights.bin (the whole file is ~240 MB for alexnet-2012).
 */
export function readKernel(runDir: string, layer = 'conv1'): KernelTensor {
  const dir = checkpointDir(runDir);
  const modelJson = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as {
    weightsManifest: Array<{ weights: Array<{ name: string; shape: number[]; dtype: string }> }>;
  };
  let offset = 0;
  for (const spec of modelJson.weightsManifest.flatMap((g) => g.weights)) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.dtype !== 'float32') {
      throw new Error(`Unexpected weight type ${spec.dtype} in ${spec.name}.`);
    }
    if (spec.name.startsWith(`${layer}/`) && spec.name.endsWith('kernel') && spec.shape.length === 4) {
      const values = new Float32Array(size);
      const fd = fs.openSync(path.join(dir, 'weights.bin'), 'r');
      try {
        fs.readSync(fd, new Uint8Array(values.buffer), 0, size * 4, offset * 4);
      } finally {
        fs.closeSync(fd);
      }
      return { layer, shape: spec.shape as KernelTensor['shape'], values };
    }
    offset += size;
  }
  throw new Error(`The checkpoint has no convolution kernel named ${layer}.`);
}

/** Layout of a kernel grid: every kernel a cell of side × scale pixels (at least ~40 px wide). */
export function filterGridLayout(shape: KernelTensor['shape']): GridLayout & { scale: number } {
  const [kh, kw, , filters] = shape;
  const scale = Math.max(1, Math.round(40 / Math.max(kh, kw)));
  return { ...gridLayout(filters, kw * scale, kh * scale, 2), scale };
}

/**
 * Draws the kernels as the paper's Fig. 3: one RGB patch per kernel, each stretched to its own
 * value range (channels other than 3 are shown as gray from the first input channel).
 */
export async function writeFilterGrid(kernel: KernelTensor, file: string): Promise<GridLayout & { scale: number }> {
  const [kh, kw, cin, filters] = kernel.shape;
  const layout = filterGridLayout(kernel.shape);
  const at = (f: number, y: number, x: number, c: number): number => kernel.values[((y * kw + x) * cin + c) * filters + f]!;
  const ranges = Array.from({ length: filters }, (_, f) => rangeOf(kh * kw * cin, (i) => kernel.values[i * filters + f]!));
  const raster = renderGrid(layout, filters, layout.scale, (f, x, y, rgb) => {
    const [lo, hi] = ranges[f]!;
    for (let c = 0; c < 3; c++) {
      rgb[c] = Math.round((255 * (at(f, y, x, cin === 3 ? c : 0) - lo)) / (hi - lo));
    }
  });
  await writePng(file, raster, layout.width, layout.height);
  return layout;
}
