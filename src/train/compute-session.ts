// Node side of a run that trains in a compute window (webgpu/webgl): the same snapshot, pack, colour
// statistics and batch loaders as session.ts, then the loaders feed the window over the protocol and
// its checkpoints are saved in checkpoint.ts' format, so the run resumes on any backend.
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import type { BackendName } from '../api/app.js';
import { adapterLabelOf } from '../backends/webgpu-host.js';
import { predictAfterTraining, predictingMessage } from '../evaluate/run-eval.js';
import type { ColorStats } from '../images/color-stats.js';
import { ARCHS, type ArchName } from '../model/index.js';
import { loadComputeCheckpoint, saveComputeCheckpoint } from './compute-checkpoint.js';
import { createBatchFeeder } from './compute-feeder.js';
import { awaitReply, type ComputeBackend, type FromCompute, type ToCompute } from './compute-protocol.js';
import type { FromRunWorker } from './messages.js';
import { prepareRunData } from './run-data.js';
import { removeLeftovers } from './checkpoint.js';
import { startHeartbeat } from './run-owner.js';
import { logRun, recordEpoch, runRow, setRunStatus } from './run-store.js';
import { configOfRun } from './run-config.js';

/** The compute window as the session sees it: protocol messages both ways, and its loss. */
export interface ComputeLink {
  post(m: ToCompute, transfer: ArrayBuffer[]): void;
  onMessage(listener: (m: FromCompute) => void): void;
  /** Resolves with a reason if the window's renderer or GPU process goes away. */
  lost: Promise<string>;
}

/** Trains (or resumes) one run in a compute window to its end; records everything like trainRun does. */
export async function trainRunInWindow(db: Database, libraryDir: string, runId: number, resume: boolean, link: ComputeLink, send: (m: FromRunWorker) => void, chosen?: BackendName, stopRequested: () => boolean = () => false): Promise<void> {
  const run = runRow(db, runId);
  const config = configOfRun(run);
  const backend = (chosen ?? config.backend) as ComputeBackend;
  const runDir = path.join(libraryDir, 'runs', String(runId));
  fs.mkdirSync(runDir, { recursive: true });
  const log = (level: 'info' | 'warn' | 'error', message: string): void => {
    logRun(db, runId, level, message);
    send({ type: 'log', level, message });
  };
  removeLeftovers(runDir, log);
  const stopHeartbeat = startHeartbeat(db, runId);
  const closers: Array<() => Promise<void>> = [];
  let lastEpoch = 0;
  try {
    setRunStatus(db, runId, 'running');
    db.prepare('UPDATE runs SET started_at = COALESCE(started_at, ?), error = NULL, finished_at = NULL WHERE id = ?').run(Date.now(), runId);
    send({ type: 'status', status: 'running' });
    const messages = new Set<(m: FromCompute) => void>();
    link.onMessage((m) => messages.forEach((l) => l(m)));
    const subscribe = (l: (m: FromCompute) => void): (() => void) => {
      messages.add(l);
      return () => messages.delete(l);
    };
    const reply = <T extends FromCompute['type']>(type: T): Promise<Extract<FromCompute, { type: T }>> => awaitReply(subscribe, link.lost, type);

    // Backend: the window's adapter, recorded with the run.
    link.post({ type: 'open', backend }, []);
    const { adapter } = await reply('ready');
    db.prepare('UPDATE runs SET backend = ?, device = ?, threads = NULL WHERE id = ?').run(backend, adapterLabelOf(adapter), runId);
    log('info', `Backend ${backend} in the compute window (${adapterLabelOf(adapter)}).`);

    const loaded = resume ? loadComputeCheckpoint(runDir) : null;
    const start = loaded?.checkpoint.position;
    const prepare = (message: string, batch = 0, batches = 0): void =>
      send({ type: 'progress', phase: 'preparing', epoch: 0, epochs: config.epochs, batch, batches, loss: null, imagesPerSecond: null, etaSeconds: null, lr: config.lr, message });
    const data = await prepareRunData(db, libraryDir, run, config, {
      reuseSnapshot: resume,
      savedStats: loaded?.meta.colorStats as ColorStats | undefined,
      start: { epoch: start?.epoch ?? 0, batch: start?.batch ?? 0 },
      progress: prepare,
      log,
      // Raw uint8 views + lighting shifts cross to the window: a quarter of float32's bytes.
      output: 'uint8',
    });
    closers.push(() => data.close());
    const { snapshot, stats, norm, inputSize, trainLoader, valLoader } = data;
    log('info', `Training ${config.arch} at ${inputSize} px on ${data.train.length} images (${data.val.length} validation, ${snapshot.classes.length} classes) in the compute window.`);

    // Batches go out as the loaders make them (uint8 views, transferred), the page normalises them; checkpoints come back.
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
              send({ type: 'epoch', metrics: m.metrics });
            }
            recordEpoch(db, runId, m.metrics ?? null, pos);
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
    if (status === 'completed') {
      // As a Node run does: predictions and features for the result views, here in this worker on the CPU.
      await predictAfterTraining(db, libraryDir, runId, {
        tenCrop: config.tenCropEval,
        log,
        shouldStop: stopRequested,
        onProgress: (done, total, split) =>
          send({ type: 'progress', phase: 'predicting', epoch: position.epoch, epochs: config.epochs, batch: done, batches: total, loss: null, imagesPerSecond: null, etaSeconds: null, lr: config.lr, message: predictingMessage(split, done, total) }),
      });
    }
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
    stopHeartbeat();
    await Promise.all(closers.map((close) => close()));
  }
}
