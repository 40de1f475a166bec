import path from 'node:path';
import type { Database } from 'better-sqlite3';
import type { TrainConfig } from '../api/runs.js';
import { activateBackend, chooseBackend } from '../backends/index.js';
import { createBatchLoader } from '../images/batch-loader.js';
import type { ColorStats } from '../images/color-stats.js';
import { loadCheckpoint, modelFromCheckpoint } from '../train/checkpoint.js';
import { inputSizeOf, normalizationFor } from '../train/config.js';
import { ensurePack, storedSnapshot } from '../train/data.js';
import { runRow } from '../train/run-store.js';
import { evaluateSource } from './evaluate.js';
import { confusionMatrix, perClassMetrics } from './metrics.js';

/** What `convnet eval --json` prints and `runs.evaluate` returns. */
export interface RunEvaluation {
  runId: number;
  split: 'train' | 'val' | 'test';
  tenCrop: boolean;
  images: number;
  loss: number;
  top1Error: number;
  top5Error: number;
  classes: string[];
  perClass: Array<{ class: string; precision: number; recall: number; f1: number; support: number }>;
  /** Rows: true class, columns: predicted class (top-1). */
  confusion: number[][];
  backend: string;
}

/** Evaluates a run's latest checkpoint on one split of the data snapshot it trained on. */
export async function evaluateRun(db: Database, libraryDir: string, runId: number, split: RunEvaluation['split'], tenCrop: boolean): Promise<RunEvaluation> {
  const run = runRow(db, runId);
  const checkpoint = loadCheckpoint(path.join(libraryDir, 'runs', String(runId)));
  if (!checkpoint) {
    throw new Error(`Run ${runId} has no checkpoint yet: it has not finished an epoch.`);
  }
  const config = JSON.parse(run.config) as TrainConfig;
  const classes = checkpoint.meta.classes;
  const snapshot = storedSnapshot(db, runId, classes);
  const items = snapshot.items.filter((it) => it.split === split);
  if (items.length === 0) {
    throw new Error(`The ${split} split of run ${runId}'s data is empty.`);
  }
  const choice = await chooseBackend(config.backend === 'tensorflow' ? 'auto' : config.backend);
  const backend = await activateBackend(choice.name);
  const inputSize = inputSizeOf(config);
  const pack = await ensurePack(path.join(libraryDir, 'cache'), run.dataset_id ?? 0, inputSize, snapshot.items, () => undefined);
  const usable = items.filter((it) => !pack.failed.has(it.id));
  const stats = checkpoint.meta.colorStats as ColorStats;
  const model = await modelFromCheckpoint(checkpoint);
  const loader = await createBatchLoader({
    packFile: pack.file,
    ids: usable.map((it) => it.id),
    labels: usable.map((it) => it.label),
    batchSize: tenCrop ? 16 : 64,
    inputSize,
    train: false,
    ...normalizationFor(config, stats),
    seed: config.seed,
    epoch: 0,
    evalViews: tenCrop ? 'ten-crop' : 'center',
  });
  try {
    const result = await evaluateSource(model, loader, classes.length, { collect: true });
    const confusion = confusionMatrix(result.probs!, result.labels!, classes.length);
    const perClass = perClassMetrics(confusion).map((m, i) => ({ class: classes[i]!, ...m }));
    return { runId, split, tenCrop, images: result.images, loss: result.loss, top1Error: result.top1Error, top5Error: result.top5Error, classes, perClass, confusion, backend };
  } finally {
    await loader.close();
    model.dispose();
  }
}
