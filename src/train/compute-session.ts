// Node side of a run that trains in a compute window (webgpu/webgl): the same snapshot, pack, colour
// statistics and batch loaders as session.ts, then the loaders feed the window over the protocol and
// its checkpoints are saved in checkpoint.ts' format, so the run resumes on any backend.
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import type { TrainConfig } from '../api/runs.js';
import { adapterLabelOf } from '../backends/webgpu-host.js';
import { paperLighting } from '../images/augment.js';
import { createBatchLoader, type BatchLoader } from '../images/batch-loader.js';
import type { ColorStats } from '../images/color-stats.js';
import { ARCHS, type ArchName } from '../model/index.js';
import { loadComputeCheckpoint, saveComputeCheckpoint } from './compute-checkpoint.js';
import { createBatchFeeder } from './compute-feeder.js';
import type { ComputeBackend, FromCompute, ToCompute } from './compute-protocol.js';
import { inputSizeOf, normalizationFor } from './config.js';
import { colorStatsFor, ensurePack, saveSnapshot, snapshotDataset, storedSnapshot, type DatasetSnapshot } from './data.js';
import type { FromRunWorker } from './messages.js';
import { logRun, runRow, setRunStatus } from './run-store.js';

/** The compute window as the session sees it: protocol messages both ways, and its loss. */
export interface ComputeLink {
  post(m: ToCompute, transfer: ArrayBuffer[]): void;
  onMessage(listener: (m: FromCompute) => void): void;
  /** Resolves with a reason if the window's renderer or GPU process goes away. */
  lost: Promise<string>;
}

/** Trains (or resumes) one run in a compute window to its end; records everything like trainRun does. */
export async function trainRunInWindow(db: Database, libraryDir: string, runId: number, resume: boolean, link: ComputeLink, send: (m: FromRunWorker) => void): Promise<void> {
  const run = runRow(db, runId);
  const config = JSON.parse(run.config) as TrainConfig;
  const backend = config.backend as ComputeBackend;
  const runDir = path.join(libraryDir, 'runs', String(runId));
  fs.mkdirSync(runDir, { recursive: true });
  const log = (level: 'info' | 'warn' | 'error', message: string): void => {
    logRun(db, runId, level, message);
    send({ type: 'log', level, message });
  };
  const loaders: BatchLoader[] = [];
  let lastEpoch = 0;
  try {
    setRunStatus(db, runId, 'running');
    db.prepare('UPDATE runs SET started_at = COALESCE(started_at, ?), error = NULL, finished_at = NULL WHERE id = ?').run(Date.now(), runId);
    send({ type: 'status', status: 'running' });
    const messages = new Set<(m: FromCompute) => void>();
    link.onMessage((m) => messages.forEach((l) => l(m)));
    const reply = <T extends FromCompute['type']>(type: T): Promise<Extract<FromCompute, { type: T }>> =>
      new Promise((resolve, reject) => {
        const l = (m: FromCompute): void => {
          if (m.type === type || m.type === 'error') {
            messages.delete(l);
            m.type === 'error' ? reject(new Error(m.message)) : resolve(m as Extract<FromCompute, { type: T }>);
          }
        };
        messages.add(l);
        void link.lost.then((reason) => reject(new Error(reason)));
      });

    // Backend: the window's adapter, recorded with the run.
    link.post({ type: 'open', backend }, []);
    const { adapter } = await reply('ready');
    db.prepare('UPDATE runs SET backend = ?, device = ?, threads = NULL WHERE id = ?').run(backend, adapterLabelOf(adapter), runId);
    log('info', `Backend ${backend} in the compute window (${adapterLabelOf(adapter)}).`);

    const loaded = resume ? loadComputeCheckpoint(runDir) : null;
    let snapshot: DatasetSnapshot;
    if (loaded || (resume && run.snapshot_hash)) {
      snapshot = storedSnapshot(db, runId, JSON.parse(run.classes) as string[]);
    } else {
      if (run.dataset_id === null) {
        throw new Error('The dataset of this run was deleted.');
      }
      snapshot = snapshotDataset(db, run.dataset_id);
      db.prepare('DELETE FROM run_images WHERE run_id = ?').run(runId);
      saveSnapshot(db, runId, snapshot);
      db.prepare('UPDATE runs SET classes = ?, snapshot_hash = ? WHERE id = ?').run(JSON.stringify(snapshot.classes), snapshot.hash, runId);
    }
    if (snapshot.classes.length < 2) {
      throw new Error(`A classifier needs at least 2 classes; this dataset has ${snapshot.classes.length}.`);
    }
    const inputSize = inputSizeOf(config);
    const prepare = (message: string, batch = 0, batches = 0): void =>
      send({ type: 'progress', phase: 'preparing', epoch: 0, epochs: config.epochs, batch, batches, loss: null, imagesPerSecond: null, etaSeconds: null, lr: config.lr, message });
    prepare(`Preparing the training cache at ${inputSize} px (each image is decoded once)…`);
    const pack = await ensurePack(path.join(libraryDir, 'cache'), run.dataset_id ?? 0, inputSize, snapshot.items, (done, total) => prepare(`Decoding images for the training cache: ${done} / ${total}`, done, total));
    const usable = snapshot.items.filter((it) => !pack.failed.has(it.id));
    const train = usable.filter((it) => it.split === 'train');
    const val = usable.filter((it) => it.split === 'val');
    if (train.length === 0) {
      throw new Error('The dataset has no images in its training split.');
    }
    const stats = (loaded?.meta.colorStats as ColorStats | undefined) ?? colorStatsFor(pack.file, train.map((it) => it.id));
    db.prepare('UPDATE runs SET colour_stats = ? WHERE id = ?').run(JSON.stringify(stats), runId);
    const norm = normalizationFor(config, stats);
    const start = loaded?.checkpoint.position;
    const common = { packFile: pack.file, inputSize, ...norm, seed: config.seed };
    const trainLoader = await createBatchLoader({
      ...common,
      ids: train.map((it) => it.id),
      labels: train.map((it) => it.label),
      batchSize: config.batchSize,
      train: true,
      augment: { crop: config.augment.crop, flip: config.augment.flip, pca: config.augment.pca ? paperLighting(stats, config.augment.pcaSigma) : null },
      epoch: start?.epoch ?? 0,
      startBatch: start?.batch ?? 0,
      prefetch: 3,
    });
    loaders.push(trainLoader);
    const valLoader = val.length
      ? await createBatchLoader({ ...common, ids: val.map((it) => it.id), labels: val.map((it) => it.label), batchSize: Math.max(config.batchSize, 64), train: false, epoch: 0, evalViews: config.tenCropEval ? 'ten-crop' : 'center' })
      : null;
    if (valLoader) {
      loaders.push(valLoader);
    }
    log('info', `Training ${config.arch} at ${inputSize} px on ${train.length} images (${val.length} validation, ${snapshot.classes.length} classes) in the compute window.`);

    // Batches go out as the loaders make them (normalised float32, transferred); checkpoints come back.
    let feederError: Error | null = null;
    messages.add(createBatchFeeder({ train: trainLoader, val: valLoader }, (m, transfer) => link.post(m, transfer), (err) => (feederError = err)));
    const meta = { runId, arch: config.arch, config, classes: snapshot.classes, snapshotHash: snapshot.hash, colorStats: stats, backend };
    messages.add((m) => {
      if (m.type === 'progress') {
        send({ type: 'progress', ...m.progress, epochs: config.epochs, message: null });
      } else if (m.type === 'status') {
        setRunStatus(db, runId, m.status);
        send({ type: 'status', status: m.status });
      } else if (m.type === 'checkpoint') {
        void saveComputeCheckpoint(runDir, m, meta).then(
          () => {
            const pos = m.position;
            lastEpoch = pos.epoch;
            if (m.metrics) {
              const e = m.metrics;
              db.prepare(
                `INSERT OR REPLACE INTO epochs (run_id, epoch, train_loss, val_loss, val_top1, val_top5, lr, images_per_second, seconds, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
              ).run(runId, e.epoch, e.trainLoss, e.valLoss, e.valTop1Error, e.valTop5Error, e.lr, e.imagesPerSecond, e.seconds, Date.now());
              send({ type: 'epoch', metrics: e });
            }
            db.prepare('UPDATE runs SET epochs_done = ?, best_top1 = ?, best_top5 = ?, seconds = ? WHERE id = ?').run(pos.epoch, pos.best.top1, pos.best.top5, pos.seconds, runId);
            link.post({ type: 'checkpoint-saved', ok: true, error: feederError?.message ?? null }, []);
          },
          (err: Error) => link.post({ type: 'checkpoint-saved', ok: false, error: err.message }, []),
        );
      }
    });
    const numClasses = snapshot.classes.length;
    const arch = config.arch as ArchName;
    const finished = reply('finished');
    link.post(
      {
        type: 'init',
        init: {
          config: { ...config, lrn: config.lrn ?? ARCHS[arch].defaultLrn },
          numClasses,
          inputSize,
          normalization: norm,
          trainBatches: trainLoader.batchesPerEpoch,
          valBatches: valLoader?.batchesPerEpoch ?? 0,
          ...(loaded ? { checkpoint: loaded.checkpoint } : {}),
        },
      },
      loaded ? [loaded.checkpoint.weightData, ...loaded.checkpoint.optimizer.tensors.map((t) => t.values)] : [],
    );
    const { outcome, position } = await finished;
    const status = outcome === 'stopped' ? 'stopped' : 'completed';
    setRunStatus(db, runId, status);
    log('info', status === 'stopped' ? `Stopped at epoch ${position.epoch + 1}, batch ${position.batch}; resume continues from there.` : `Finished ${position.epoch} epoch(s).`);
    send({ type: 'finished', status, error: null, bestValTop1Error: position.best.top1, bestValTop5Error: position.best.top5 });
  } catch (err) {
    const message = `${err instanceof Error ? err.message : String(err)} The run stopped at its last checkpoint (after epoch ${lastEpoch}); resume continues from there, on this or any other backend.`;
    log('error', message);
    setRunStatus(db, runId, 'interrupted', message);
    const row = runRow(db, runId);
    send({ type: 'finished', status: 'interrupted', error: message, bestValTop1Error: row.best_top1, bestValTop5Error: row.best_top5 });
  } finally {
    await Promise.all(loaders.map((l) => l.close()));
  }
}
