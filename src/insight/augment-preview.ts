// What the network will actually see: a few training images of a dataset, each as packed and then as
// several training views assembled by the loader's own code (assembleBatch: random crop, mirror, PCA
// lighting at the config's σ, mean subtraction), with the normalisation undone for display.
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import sharp, { type OverlayOptions } from 'sharp';
import { ApiError } from '../api/errors.js';
import type { TrainConfig } from '../api/runs.js';
import { paperLighting } from '../images/augment.js';
import { assembleBatch, batchRng, type AssemblyConfig } from '../images/batch-assembly.js';
import { openPack } from '../images/open-pack.js';
import { inputSizeOf, normalizationFor } from '../runs/config.js';
import { colorStatsFor, ensurePack, snapshotDataset } from '../runs/dataset-snapshot.js';

/** What to preview: the form's config, how many images and training views of each. */
export interface AugmentPreviewRequest {
  config: TrainConfig;
  images: number;
  variants: number;
  /** The PNG to write. */
  file: string;
}

/** The written grid: one row per image, the packed image first, then `variants` training views. */
export interface AugmentPreview {
  rows: Array<{ imageId: number; className: string }>;
  columns: number;
  /** Pixels per tile in the PNG (views are enlarged without smoothing), and the gap between tiles. */
  tile: number;
  gap: number;
  width: number;
  height: number;
  /** Network input side, and the side of the packed record crops are cut from. */
  inputSize: number;
  packSize: number;
}

/** Nearest-neighbour enlargement of an RGB square to `tile` pixels. */
function enlarge(src: Uint8Array, side: number, tile: number): Buffer {
  const out = Buffer.alloc(tile * tile * 3);
  for (let y = 0; y < tile; y++) {
    const sy = Math.floor((y * side) / tile);
    for (let x = 0; x < tile; x++) {
      const s = (sy * side + Math.floor((x * side) / tile)) * 3;
      const d = (y * tile + x) * 3;
      out[d] = src[s]!;
      out[d + 1] = src[s + 1]!;
      out[d + 2] = src[s + 2]!;
    }
  }
  return out;
}

/** Writes the preview grid of a dataset under a training config (packing the dataset first if needed). */
export async function writeAugmentPreview(db: Database, libraryDir: string, request: AugmentPreviewRequest): Promise<AugmentPreview> {
  const { config, images, variants } = request;
  const snapshot = snapshotDataset(db, config.datasetId);
  const inputSize = inputSizeOf(config);
  const pack = await ensurePack(path.join(libraryDir, 'cache'), config.datasetId, inputSize, snapshot.items, () => undefined);
  const train = snapshot.items.filter((it) => it.split === 'train' && !pack.failed.has(it.id));
  if (train.length === 0) {
    throw new ApiError('bad_request', 'The dataset has no images in its training split to preview.');
  }
  // One image of each class in turn (lowest ids first), so the rows show the classes.
  const picked: typeof train = [];
  for (let round = 0; picked.length < Math.min(images, train.length); round++) {
    for (let label = 0; label < snapshot.classes.length && picked.length < images; label++) {
      const it = train.filter((t) => t.label === label)[round];
      if (it) {
        picked.push(it);
      }
    }
  }
  const stats = colorStatsFor(pack.file, train.map((it) => it.id));
  const norm = normalizationFor(config, stats);
  const assembly: AssemblyConfig = {
    inputSize,
    train: true,
    augment: { crop: config.augment.crop, flip: config.augment.flip, pca: config.augment.pca ? paperLighting(stats, config.augment.pcaSigma) : null },
    norm,
    evalViews: 'center',
  };
  const file = openPack(pack.file, { preload: false });
  try {
    const indexOf = new Map(Array.from(file.ids, (id, i) => [id, i]));
    const records = picked.map((it) => indexOf.get(it.id)!);
    const P = file.packSize;
    const tile = Math.max(64, Math.min(160, inputSize * Math.max(1, Math.round(96 / inputSize))));
    const gap = 4;
    const columns = variants + 1;
    const width = columns * tile + (columns - 1) * gap + gap * 2;
    const height = picked.length * tile + (picked.length - 1) * gap;
    const layers: OverlayOptions[] = [];
    const std = norm.std ?? [1, 1, 1];
    for (let v = 0; v < variants; v++) {
      // The loader's batch assembly, as for batch v of an epoch: crops, mirrors and lighting drawn as in training.
      const { x } = assembleBatch(file, records, assembly, batchRng(config.seed, 0, v));
      const per = inputSize * inputSize * 3;
      for (let r = 0; r < picked.length; r++) {
        const view = new Uint8Array(per);
        for (let p = 0; p < per; p++) {
          const c = p % 3;
          view[p] = Math.max(0, Math.min(255, Math.round(x[r * per + p]! * std[c]! + norm.mean[c]!)));
        }
        layers.push({ input: enlarge(view, inputSize, tile), raw: { width: tile, height: tile, channels: 3 }, left: (v + 1) * (tile + gap) + gap * 2, top: r * (tile + gap) });
      }
    }
    for (let r = 0; r < picked.length; r++) {
      layers.push({ input: enlarge(file.read(records[r]!), P, tile), raw: { width: tile, height: tile, channels: 3 }, left: 0, top: r * (tile + gap) });
    }
    fs.mkdirSync(path.dirname(request.file), { recursive: true });
    await sharp({ create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } } }).composite(layers).png().toFile(request.file);
    return { rows: picked.map((it) => ({ imageId: it.id, className: snapshot.classes[it.label]! })), columns, tile, gap, width, height, inputSize, packSize: P };
  } finally {
    file.close();
  }
}
