import path from 'node:path';
import type { Database } from 'better-sqlite3';
import * as tf from '@tensorflow/tfjs';
import { assembleBatch } from '../images/batch-assembly.js';
import type { ColorStats } from '../images/color-stats.js';
import { openPack } from '../images/open-pack.js';
import { Rng } from '../images/prng.js';
import { modelFromCheckpoint } from '../runs/checkpoint.js';
import { inputSizeOf, normalizationFor } from '../runs/config.js';
import { ensurePack, storedSnapshot } from '../runs/dataset-snapshot.js';
import { runRow } from '../runs/run-store.js';
import { gridLayout, rangeOf, renderGrid, writePng } from './grid-image.js';
import { activateRunBackend, requireCheckpoint } from './run-eval.js';
import { configOfRun } from '../runs/run-config.js';

/** What an activation picture shows, as `results.activations` returns it (less the URL). */
export interface ActivationGrid {
  layer: string;
  layers: string[];
  shape: [number, number, number];
  columns: number;
  rows: number;
  width: number;
  height: number;
}

/** Layers worth looking inside, in network order: convolutions, normalisations, pools and fully connected layers. */
export function viewableLayers(model: tf.LayersModel): string[] {
  return model.layers.filter((l) => !/^(image|flatten)$|^drop|_pad$/.test(l.name) && l.getClassName() !== 'InputLayer').map((l) => l.name);
}

/**
 * Runs one image (the centre crop of its packed record, normalised as in training) through a run's
 * latest checkpoint and draws one layer's output: a gray tile per channel, each stretched to its own
 * range; a fully connected layer is one tile with a cell per unit.
 */
export async function writeActivationGrid(db: Database, libraryDir: string, runId: number, imageId: number, layer: string, file: string): Promise<ActivationGrid> {
  const run = runRow(db, runId);
  const config = configOfRun(run);
  const checkpoint = requireCheckpoint(libraryDir, runId);
  const snapshot = storedSnapshot(db, runId, checkpoint.meta.classes);
  const item = snapshot.items.find((it) => it.id === imageId);
  if (!item) {
    throw new Error(`Image ${imageId} is not in run ${runId}'s data.`);
  }
  await activateRunBackend(config);
  const inputSize = inputSizeOf(config);
  const packed = await ensurePack(path.join(libraryDir, 'cache'), run.dataset_id ?? 0, inputSize, snapshot.items, () => undefined);
  const pack = openPack(packed.file, { preload: false });
  let input: ReturnType<typeof assembleBatch>;
  try {
    const record = pack.indexOf(imageId);
    if (record < 0) {
      throw new Error(`Image ${imageId} could not be decoded for run ${runId}.`);
    }
    const norm = normalizationFor(config, checkpoint.meta.colorStats as ColorStats);
    input = assembleBatch(pack, [record], { inputSize, train: false, augment: { crop: false, flip: false, pca: null }, norm, evalViews: 'center' }, Rng.fromSeed(0, 'activations'));
  } finally {
    pack.close();
  }
  const model = await modelFromCheckpoint(checkpoint);
  try {
    const layers = viewableLayers(model);
    if (!layers.includes(layer)) {
      throw new Error(`Run ${runId}'s network has no layer "${layer}"; it has ${layers.join(', ')}.`);
    }
    const sub = tf.model({ inputs: model.inputs, outputs: model.getLayer(layer).output as tf.SymbolicTensor });
    const out = tf.tidy(() => sub.predict(tf.tensor4d(input.x, input.shape)) as tf.Tensor);
    const values = (await out.data()) as Float32Array;
    const dims = out.shape.slice(1);
    out.dispose();
    const shape: [number, number, number] = dims.length === 3 ? [dims[0]!, dims[1]!, dims[2]!] : [1, 1, dims.reduce((a, b) => a * b, 1)];
    return { ...(await drawMaps(values, shape, file)), layer, layers, shape };
  } finally {
    model.dispose();
  }
}

async function drawMaps(values: Float32Array, [h, w, c]: [number, number, number], file: string): Promise<{ columns: number; rows: number; width: number; height: number }> {
  if (h === 1 && w === 1) {
    // A vector: one cell of 6 px per unit, one range for the layer.
    const cell = 6;
    const units = gridLayout(c, cell, cell, 0);
    const [lo, hi] = rangeOf(c, (i) => values[i]!);
    const layout = gridLayout(1, units.width, units.height, 2);
    const raster = renderGrid(layout, 1, cell, (_t, x, y, rgb) => {
      const u = y * units.columns + x;
      const g = u < c ? Math.round((255 * (values[u]! - lo)) / (hi - lo)) : 40;
      rgb.fill(g);
    });
    await writePng(file, raster, layout.width, layout.height);
    return { columns: units.columns, rows: units.rows, width: layout.width, height: layout.height };
  }
  const scale = Math.max(1, Math.ceil(24 / Math.max(h, w)));
  const layout = gridLayout(c, w * scale, h * scale, 2);
  const ranges = Array.from({ length: c }, (_, ch) => rangeOf(h * w, (i) => values[i * c + ch]!));
  const raster = renderGrid(layout, c, scale, (ch, x, y, rgb) => {
    const [lo, hi] = ranges[ch]!;
    rgb.fill(Math.round((255 * (values[(y * w + x) * c + ch]! - lo)) / (hi - lo)));
  });
  await writePng(file, raster, layout.width, layout.height);
  return { columns: layout.columns, rows: layout.rows, width: layout.width, height: layout.height };
}
