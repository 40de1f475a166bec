// Figures 3 and 4 and their fixtures: a generated folder of real image files (JPEG/PNG, class per
// sub-folder), a packed cache made from it by the product's packImages, the loader's images/s on that
// pack against the trainer's consumption rate, and indexing files/s against raw read+hash.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { measureIndexing } from './indexing.js';
import { measureLoader } from './loader.js';
import { packImages, packSizeFor } from '../src/images/pack-images.js';
import { makeRow, median, skippedRow, type Row } from './results.js';

/** A generated image folder: `root/<class>/<n>.jpg|png`. */
export interface ImageFolderFixture {
  root: string;
  files: string[];
  labels: number[];
}

/** Pixels of one synthetic photo-like image: a smooth gradient per channel plus per-pixel noise (so JPEG sizes are realistic). */
function pixels(size: number, seed: number): Buffer {
  let s = (seed * 2654435761 + 1) >>> 0;
  const rand = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const p = Array.from({ length: 9 }, rand);
  const out = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        const v = p[c * 3]! * 255 * (x / size) + p[c * 3 + 1]! * 255 * (y / size) + p[c * 3 + 2]! * 80 + (rand() - 0.5) * 60;
        out[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return out;
}

/** Writes `perClass` images of `size`² pixels into each of `classes` folders, alternating JPEG and PNG. */
export async function writeImageFolder(root: string, classes: number, perClass: number, size: number): Promise<ImageFolderFixture> {
  const files: string[] = [];
  const labels: number[] = [];
  for (let c = 0; c < classes; c++) {
    const dir = path.join(root, `class-${c}`);
    fs.mkdirSync(dir, { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const png = i % 4 === 3;
      const file = path.join(dir, `img-${String(i).padStart(4, '0')}.${png ? 'png' : 'jpg'}`);
      const image = sharp(pixels(size, c * 100_003 + i), { raw: { width: size, height: size, channels: 3 } });
      await (png ? image.png() : image.jpeg({ quality: 90 })).toFile(file);
      files.push(file);
      labels.push(c);
    }
  }
  return { root, files, labels };
}

/** Packs a fixture for a network input size through the product's packImages; returns the pack file. */
export async function packFixture(fixture: ImageFolderFixture, inputSize: number, outFile: string): Promise<string> {
  await packImages({ items: fixture.files.map((p, i) => ({ id: i + 1, path: p, label: fixture.labels[i]! })), packSize: packSizeFor(inputSize), outFile });
  return outFile;
}

/** Figure 3: packed cache → augmented float batches (worker loader, crop + flip + PCA lighting) against what the trainer consumes. */
export async function loaderFigure(o: {
  packFile: string;
  inputSize: number;
  batch: number;
  batches: number;
  reps: number;
  trainerImagesPerSec: number | null;
  trainerWhat: string;
}): Promise<Row> {
  const base = { figure: 3, id: `loader.${o.inputSize}px.b${o.batch}`, what: `data loader ${o.inputSize}px b${o.batch} (pack → augmented)`, unit: 'img/s', better: 'higher', peerName: `trainer's consumption (${o.trainerWhat})` } as const;
  const delivered: number[] = [];
  const capacity: number[] = [];
  for (let rep = 0; rep < o.reps; rep++) {
    const m = await measureLoader({ packFile: o.packFile, inputSize: o.inputSize, batchSize: o.batch, batches: o.batches });
    delivered.push(m.imagesPerSec);
    capacity.push(m.workerImagesPerSec);
  }
  if (!delivered.length) {
    return skippedRow(base, 'no repetitions');
  }
  return makeRow({
    ...base,
    ours: median(delivered),
    peer: o.trainerImagesPerSec,
    samples: { ours: delivered, peer: o.trainerImagesPerSec === null ? [] : [o.trainerImagesPerSec] },
    note: `ratio ≥ 1: the loader outruns the trainer, which never waits on data; worker capacity (busy time) ${median(capacity).toFixed(0)} img/s; ${o.reps}×${o.batches} batches`,
  });
}

/** Files figure 4 indexes at least: fewer, and the import worker's fixed start-up (~0.1 s) is what gets measured. */
const INDEXING_FILES = 2000;

/**
 * Figure 4: import (scan, read, hash, header checks, write SQLite) files/s against reading and hashing the same files
 * alone. Uses the given folder when it holds INDEXING_FILES files or more, else writes its own beside it (256 px,
 * JPEG + PNG, like writeImageFolder's). At least 3 repetitions (median), each ours then the raw limit.
 */
export async function indexingFigure(o: { dir: string; reps: number }): Promise<Row> {
  const base = { figure: 4, id: 'indexing', what: 'dataset indexing (import)', unit: 'files/s', better: 'higher', peerName: 'raw read + SHA-256 of the same files' } as const;
  let dir = o.dir;
  const count = (d: string): number => fs.readdirSync(d, { recursive: true }).filter((f) => /\.(jpg|png)$/.test(String(f))).length;
  if (count(dir) < INDEXING_FILES) {
    dir = path.join(path.dirname(o.dir), 'indexing-images');
    if (!fs.existsSync(dir) || count(dir) < INDEXING_FILES) {
      await writeImageFolder(dir, 10, INDEXING_FILES / 10, 256);
    }
  }
  const reps = Math.max(3, o.reps);
  const ours: number[] = [];
  const raw: number[] = [];
  const phase: number[] = [];
  let files = 0;
  for (let rep = 0; rep < reps; rep++) {
    const m = await measureIndexing(dir);
    ours.push(m.filesPerSecond);
    raw.push(m.rawReadHashFilesPerSecond);
    phase.push(m.indexingPhaseFilesPerSecond);
    files = m.files;
  }
  const ratios = ours.map((v, i) => v / raw[i]!);
  const phaseRatios = phase.map((v, i) => v / raw[i]!);
  return makeRow({
    ...base,
    ours: median(ours),
    peer: median(raw),
    samples: { ours, peer: raw },
    note: `${files} files (256 px JPEG/PNG), ${reps} repetitions, fresh library each (includes the import worker's start-up); the raw limit (4 lanes of readFile + SHA-256, after a warm-up pass) skips scanning, header checks and SQLite; per-repetition ratios ${ratios.map((r) => r.toFixed(2)).join(', ')} (median ${median(ratios).toFixed(2)}: the ratio of medians above mixes repetitions when the machine's load changes); the indexing phase alone (no start-up, scan or splits) ${median(phase).toFixed(0)} files/s, ratios ${phaseRatios.map((r) => r.toFixed(2)).join(', ')}`,
  });
}
