import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MethodName, Input } from '../src/api/contract.js';
import { Rng } from '../src/images/prng.js';
import type { Library } from '../src/library/open.js';
import { runDirOf } from '../src/runs/run-folder.js';
import { openStudio } from '../src/studio.js';
import { PROJECTED_DIM, writeFeatures } from '../src/evaluate/features.js';
import { writePredictionRows, type PredictionRow } from '../src/evaluate/predictions-store.js';

/** Size of a fake library of results. */
export interface FakeResultsOptions {
  /** Test-split images (each gets a prediction per run). */
  images: number;
  /** Training images (features only, for the neighbour search). */
  trainImages: number;
  classes: number;
  /** Runs sharing the dataset (2 for the run-vs-run view). */
  runs: number;
  featureDim: number;
  /** Share of top-1 hits in the fake predictions. */
  accuracy?: number;
  seed?: number;
}

/** What fillFakeResults made. */
export interface FakeResults {
  datasetId: number;
  runIds: number[];
  testIds: number[];
  trainIds: number[];
}

/**
 * Fills a library with a dataset, completed runs, their test-split predictions (seeded, plausible:
 * `accuracy` top-1 hits, random top-5) and fc7 feature files — the rows and files the result views read.
 */
export function fillFakeResults(library: Library, o: FakeResultsOptions): FakeResults {
  const { db } = library;
  const rng = Rng.fromSeed(o.seed ?? 1, 'fake-results');
  const accuracy = o.accuracy ?? 0.6;
  const now = Date.now();
  const names = Array.from({ length: o.classes }, (_, c) => `class-${String(c).padStart(4, '0')}`);
  const made = db.transaction(() => {
    const datasetId = Number(
      db
        .prepare(`INSERT INTO datasets (name, created_at, updated_at, source_paths, source_key, state, split_train, split_val, split_test, split_seed) VALUES (?, ?, ?, '[]', ?, 'ready', 0.8, 0.1, 0.1, 0)`)
        .run(`fake-${now}`, now, now, `fake-${now}-${rng.next()}`).lastInsertRowid,
    );
    const classIds = names.map((n) => Number(db.prepare('INSERT INTO classes (dataset_id, name) VALUES (?, ?)').run(datasetId, n).lastInsertRowid));
    const insertImage = db.prepare(
      `INSERT INTO images (dataset_id, path, relative_path, file_name, sha256, size, mtime_ms, width, height, format, class_id, original_class_id, split, split_source, indexed_at)
       VALUES (?, ?, ?, ?, ?, 1000, 0, 32, 32, 'png', ?, ?, ?, 'auto', ?)`,
    );
    const labels = new Map<number, number>();
    const add = (i: number, split: 'train' | 'test'): number => {
      const label = i % o.classes;
      const name = `${split}-${String(i).padStart(6, '0')}.png`;
      const id = Number(insertImage.run(datasetId, `/fake/${name}`, name, name, `${split}${i}`.padEnd(64, '0'), classIds[label], classIds[label], split, now).lastInsertRowid);
      labels.set(id, label);
      return id;
    };
    const trainIds = Array.from({ length: o.trainImages }, (_, i) => add(i, 'train'));
    const testIds = Array.from({ length: o.images }, (_, i) => add(i, 'test'));
    const runIds = Array.from({ length: o.runs }, () => {
      const config = JSON.stringify({ datasetId, arch: 'alexnet-small', epochs: 1 });
      const runId = Number(
        db
          .prepare(`INSERT INTO runs (dataset_id, dataset_name, arch, status, config, config_diff, classes, snapshot_hash, created_at, epochs_done) VALUES (?, 'fake', 'alexnet-small', 'completed', ?, '{}', ?, 'fake', ?, 1)`)
          .run(datasetId, config, JSON.stringify(names), now).lastInsertRowid,
      );
      const snap = db.prepare('INSERT INTO run_images (run_id, image_id, label, split) VALUES (?, ?, ?, ?)');
      trainIds.forEach((id) => snap.run(runId, id, labels.get(id), 'train'));
      testIds.forEach((id) => snap.run(runId, id, labels.get(id), 'test'));
      return runId;
    });
    return { datasetId, runIds, testIds, trainIds, labels };
  }).immediate();

  for (const runId of made.runIds) {
    const rows: PredictionRow[] = made.testIds.map((imageId) => {
      const label = made.labels.get(imageId)!;
      const top1 = rng.next() < accuracy ? label : rng.int(o.classes);
      const others = new Set<number>([top1]);
      while (others.size < Math.min(5, o.classes)) {
        others.add(rng.chance(0.3) ? label : rng.int(o.classes));
      }
      const p1 = 0.2 + 0.8 * rng.next();
      const top5 = [...others].map((c, i) => ({ label: c, probability: i === 0 ? p1 : ((1 - p1) / 4) * rng.next() }));
      return { imageId, label, top1, top1Prob: p1, correctTop1: top1 === label, correctTop5: others.has(label), top5 };
    });
    const top1 = rows.filter((r) => r.correctTop1).length / rows.length;
    const top5 = rows.filter((r) => r.correctTop5).length / rows.length;
    writePredictionRows(db, { runId, split: 'test', tenCrop: false, images: rows.length, loss: 1, top1Error: 1 - top1, top5Error: 1 - top5, featureDim: o.featureDim, epoch: 1, backend: 'fake', computedAt: now }, rows);
    writePredictionRows(db, { runId, split: 'train', tenCrop: false, images: 0, loss: 1, top1Error: 0, top5Error: 0, featureDim: o.featureDim, epoch: 1, backend: 'fake', computedAt: now }, []);
    const runDir = runDirOf(library.dir, runId);
    const fake = (n: number, dim: number): Float32Array => Float32Array.from({ length: n * dim }, () => Math.max(0, rng.next() - 0.5));
    // Wide features get their projected rows as the evaluation worker writes them; here random ones, which time the same.
    const projected = (n: number): Float32Array | undefined => (o.featureDim > PROJECTED_DIM ? fake(n, PROJECTED_DIM) : undefined);
    writeFeatures(runDir, 'train', { ids: Int32Array.from(made.trainIds), values: fake(made.trainIds.length, o.featureDim), dim: o.featureDim }, projected(made.trainIds.length));
    writeFeatures(runDir, 'test', { ids: Int32Array.from(made.testIds), values: fake(made.testIds.length, o.featureDim), dim: o.featureDim }, projected(made.testIds.length));
  }
  return { datasetId: made.datasetId, runIds: made.runIds, testIds: made.testIds, trainIds: made.trainIds };
}

/** One query's times: the first call (cold caches) and the median of the repeats. */
export interface QueryTiming {
  query: string;
  firstMs: number;
  medianMs: number;
}

/**
 * Fills a throw-away library with fake results (by default a 10,000-image test split, 100 classes,
 * two runs, 10,000 training features of 256 floats) and times each `results.*` request through the
 * studio's validated dispatch, as a UI would call it.
 */
export async function measureResultQueries(options: Partial<FakeResultsOptions> & { repeats?: number } = {}): Promise<{ options: FakeResultsOptions; timings: QueryTiming[] }> {
  const o: FakeResultsOptions = { images: 10_000, trainImages: 10_000, classes: 100, runs: 2, featureDim: 256, ...options };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'convnet-results-bench-'));
  const studio = openStudio({ libraryDir: dir, host: 'cli' });
  try {
    const fake = fillFakeResults(studio.library, o);
    const [a, b] = [fake.runIds[0]!, fake.runIds[1] ?? fake.runIds[0]!];
    const image = fake.testIds[Math.floor(fake.testIds.length / 2)]!;
    const queries: Array<[string, MethodName, unknown]> = [
      ['summary', 'results.summary', { runId: a, split: 'test' }],
      ['cell (diagonal, first 100)', 'results.cell', { runId: a, split: 'test', trueLabel: 0, predictedLabel: 0 }],
      ['mistakes (first 100)', 'results.mistakes', { runId: a, split: 'test' }],
      ['mistakes (page at offset 3000)', 'results.mistakes', { runId: a, split: 'test', offset: 3000 }],
      ['mistakes of one class', 'results.mistakes', { runId: a, split: 'test', trueLabel: 3 }],
      ['image', 'results.image', { runId: a, imageId: image }],
      ['neighbours (k 8)', 'results.neighbours', { runId: a, imageId: image, k: 8 }],
      ['compare (first 100)', 'results.compare', { runA: a, runB: b, split: 'test', which: 'aRightBWrong' }],
    ];
    const timings: QueryTiming[] = [];
    for (const [query, method, input] of queries) {
      const times: number[] = [];
      for (let i = 0; i < (options.repeats ?? 7); i++) {
        const start = performance.now();
        await studio.call(method, input as Input<typeof method>);
        times.push(performance.now() - start);
      }
      const sorted = times.slice(1).sort((x, y) => x - y);
      timings.push({ query, firstMs: round(times[0]!), medianMs: round(sorted[Math.floor(sorted.length / 2)] ?? times[0]!) });
    }
    return { options: o, timings };
  } finally {
    await studio.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
