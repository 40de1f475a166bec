import fs from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { computeColorStats, type ColorStats } from '../images/color-stats.js';
import { openPack } from '../images/open-pack.js';
import { packImages, packSizeFor } from '../images/pack-images.js';

/** One image a run uses: its id, the label index and the split it had when the run started. */
export interface SnapshotItem {
  id: number;
  path: string;
  sha256: string;
  label: number;
  split: 'train' | 'val' | 'test';
}

/** The data a run trains on, frozen at its start. */
export interface DatasetSnapshot {
  classes: string[];
  items: SnapshotItem[];
  /** SHA-256 over (image id, content hash, label, split): equal hashes mean identical training data. */
  hash: string;
}

/** Reads a dataset's usable images (not excluded, file present) with labels by sorted class name. */
export function snapshotDataset(db: Database, datasetId: number): DatasetSnapshot {
  const rows = db
    .prepare(
      `SELECT i.id, i.path, i.sha256, i.split, c.name AS className
         FROM images i JOIN classes c ON c.id = i.class_id
        WHERE i.dataset_id = ? AND i.status = 'ok' AND i.excluded = 0
        ORDER BY i.id`,
    )
    .all(datasetId) as Array<{ id: number; path: string; sha256: string; split: SnapshotItem['split']; className: string }>;
  const classes = [...new Set(rows.map((r) => r.className))].sort((a, b) => a.localeCompare(b));
  const labelOf = new Map(classes.map((name, i) => [name, i]));
  const items = rows.map((r) => ({ id: r.id, path: r.path, sha256: r.sha256, label: labelOf.get(r.className)!, split: r.split }));
  return { classes, items, hash: snapshotHash(items, classes) };
}

/** Re-reads the snapshot a run stored at its start (for resume and evaluation). */
export function storedSnapshot(db: Database, runId: number, classes: string[]): DatasetSnapshot {
  const items = db
    .prepare(
      `SELECT r.image_id AS id, i.path, i.sha256, r.label, r.split
         FROM run_images r JOIN images i ON i.id = r.image_id
        WHERE r.run_id = ? ORDER BY r.image_id`,
    )
    .all(runId) as SnapshotItem[];
  return { classes, items, hash: snapshotHash(items, classes) };
}

function snapshotHash(items: SnapshotItem[], classes: string[]): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(classes));
  for (const it of items) {
    h.update(`${it.id}:${it.sha256}:${it.label}:${it.split}\n`);
  }
  return h.digest('hex');
}

/** Stores the snapshot rows of a run (once, at its first start). */
export function saveSnapshot(db: Database, runId: number, snapshot: DatasetSnapshot): void {
  const insert = db.prepare('INSERT OR IGNORE INTO run_images (run_id, image_id, label, split) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (const it of snapshot.items) {
      insert.run(runId, it.id, it.label, it.split);
    }
  })();
}

/** The packed cache file for a set of images at a pack size; its name changes when the images' contents do. */
export function packFileFor(cacheDir: string, datasetId: number, packSize: number, items: SnapshotItem[]): string {
  const h = createHash('sha256');
  for (const it of [...items].sort((a, b) => a.id - b.id)) {
    h.update(`${it.id}:${it.sha256}\n`);
  }
  return path.join(cacheDir, `dataset-${datasetId}-${packSize}px-${h.digest('hex').slice(0, 16)}.pack`);
}

/**
 * Makes sure the pack exists (decoding each image once per dataset and size); returns its file, the ids
 * that are not in it, and — when it was built now — the images found broken (valid headers, bodies that
 * do not decode), for the caller to record in the library.
 */
export async function ensurePack(
  cacheDir: string,
  datasetId: number,
  inputSize: number,
  items: SnapshotItem[],
  onProgress: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<{ file: string; packSize: number; failed: Map<number, string>; undecodable: Array<{ id: number; message: string }> }> {
  const packSize = packSizeFor(inputSize);
  const file = packFileFor(cacheDir, datasetId, packSize, items);
  const reasons = new Map<number, string>();
  let undecodable: Array<{ id: number; message: string }> = [];
  if (!fs.existsSync(file)) {
    const made = await packImages({
      items: items.map((it) => ({ id: it.id, path: it.path, label: it.label })),
      packSize,
      outFile: file,
      onProgress: (p) => onProgress(p.done, p.total),
      ...(signal ? { signal } : {}),
    });
    made.errors.forEach((e) => reasons.set(e.id, e.message));
    undecodable = made.undecodable.map((e) => ({ id: e.id, message: e.message }));
  }
  const pack = openPack(file, { preload: false });
  const present = new Set(Array.from(pack.ids));
  pack.close();
  const failed = new Map<number, string>();
  for (const it of items) {
    if (!present.has(it.id)) {
      failed.set(it.id, reasons.get(it.id) ?? 'could not be decoded when the training cache was built');
    }
  }
  return { file, packSize, failed, undecodable };
}

/** Mean and PCA of the training pixels, for mean subtraction and the paper's colour augmentation. */
export function colorStatsFor(packFile: string, trainIds: number[]): ColorStats {
  const pack = openPack(packFile, { preload: false });
  try {
    return computeColorStats(pack, trainIds, { maxImages: 2000, seed: 7 });
  } finally {
    pack.close();
  }
}
