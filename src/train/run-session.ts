// The life of one training session of a run, whatever trains it: the row (running, started, backend),
// the heartbeat, the dataset snapshot and packed cache, per-epoch recording, predictions after training
// and the finish (completed, stopped, failed or interrupted). The network itself is the Trainer's.
import fs from 'node:fs';
import type { Database } from 'better-sqlite3';
import type { RunStatus } from '../api/runs.js';
import { predictAfterTraining, predictingMessage } from '../evaluate/run-eval.js';
import type { ColorStats } from '../images/color-stats.js';
import { loadCheckpoint, removeLeftovers } from '../runs/checkpoint.js';
import { initialPosition, type LoopPosition } from './loop.js';
import type { FromRunWorker } from './messages.js';
import { configOfRun } from '../runs/run-config.js';
import { runDirOf } from '../runs/run-folder.js';
import { prepareRunData, type RunData } from './run-data.js';
import { logRun, markRunStarted, recordEpoch, recordRunBackend, runRow, setRunStatus, startHeartbeat } from '../runs/run-store.js';
import { TrainerLost, type BatchOf, type RunControl, type Trainer, type TrainerOutput } from './trainer.js';

/** Trains (or resumes) one run to its end with `trainer`; everything it learns goes to SQLite, the run folder and `send`. */
export async function runSession<O extends TrainerOutput>(db: Database, libraryDir: string, runId: number, resume: boolean, control: RunControl, send: (m: FromRunWorker) => void, trainer: Trainer<O>): Promise<void> {
  const run = runRow(db, runId);
  const config = configOfRun(run);
  const runDir = runDirOf(libraryDir, runId);
  fs.mkdirSync(runDir, { recursive: true });
  const log = (level: 'info' | 'warn' | 'error', message: string): void => {
    logRun(db, runId, level, message);
    send({ type: 'log', level, message });
  };
  // This process owns the run (claimed when it was started or resumed): no one else writes its checkpoint.
  removeLeftovers(runDir, log);
  const stopHeartbeat = startHeartbeat(db, runId);
  const closers: Array<() => Promise<void>> = [];
  const statusChanged = (status: 'running' | 'paused'): void => {
    setRunStatus(db, runId, status);
    send({ type: 'status', status });
  };
  try {
    markRunStarted(db, runId);
    send({ type: 'status', status: 'running' });
    const prepare = (message: string, batch = 0, batches = 0): void =>
      send({ type: 'progress', phase: 'preparing', epoch: 0, epochs: config.epochs, batch, batches, loss: null, imagesPerSecond: null, etaSeconds: null, lr: config.lr, message });

    // Backend: the user's choice, the best available here, or the compute window's adapter; recorded with the run.
    const backend = await trainer.open(config);
    recordRunBackend(db, runId, backend);
    log('info', backend.description);

    // Data: the snapshot taken at the first start, so edits to the library never change a run midway.
    const checkpoint = resume ? loadCheckpoint(runDir) : null;
    const start: LoopPosition = checkpoint?.meta.position ?? initialPosition(config);
    const needs = await trainer.prepare(config, checkpoint);
    const data = (await prepareRunData(db, libraryDir, run, config, {
      reuseSnapshot: resume,
      savedStats: checkpoint?.meta.colorStats as ColorStats | undefined,
      adjustStats: needs.adjustStats,
      start,
      progress: prepare,
      log,
      output: trainer.output,
    })) as unknown as RunData<BatchOf<O>>;
    closers.push(() => data.close());
    const { snapshot, inputSize } = data;
    if (checkpoint) {
      const { epoch, batch } = checkpoint.meta.position;
      log('info', `Resuming from the checkpoint after epoch ${epoch}${batch ? `, batch ${batch}` : ''}.`);
    }
    log('info', `Training ${config.arch} at ${inputSize} px on ${data.train.length} images (${data.val.length} validation, ${snapshot.classes.length} classes)${trainer.place ? ` ${trainer.place}` : ''}.`);

    const { outcome, position } = await trainer.train({
      runId,
      runDir,
      config,
      checkpoint,
      start,
      data,
      meta: { runId, arch: config.arch, config, classes: snapshot.classes, snapshotHash: snapshot.hash, colorStats: data.stats, backend: backend.name },
      control,
      log,
      prepare,
      progress: (p) => send({ type: 'progress', ...p, epochs: config.epochs, message: null }),
      record: (metrics, pos) => {
        recordEpoch(db, runId, metrics, pos);
        if (metrics) {
          send({ type: 'epoch', metrics });
        }
      },
      checkControl: async () => {
        if (control.paused && !control.stopRequested) {
          statusChanged('paused');
          await control.waitWhilePaused();
          if (!control.stopRequested) {
            statusChanged('running');
          }
        }
        return control.stopRequested ? 'stop' : 'continue';
      },
      statusChanged,
    });
    if (outcome === 'time-limit') {
      log('info', `Time limit of ${config.timeLimitMinutes} min reached after ${position.epoch} epoch(s); evaluated and checkpointed.`);
    }
    const status = outcome === 'stopped' ? 'stopped' : 'completed';
    if (status === 'completed') {
      // Before run.finished, so the result views have data the moment the UI hears of it (made here, on the CPU for a compute window's run).
      await predictAfterTraining(db, libraryDir, runId, {
        tenCrop: config.tenCropEval,
        log,
        shouldStop: () => control.stopRequested,
        onProgress: (done, total, split) =>
          send({ type: 'progress', phase: 'predicting', epoch: position.epoch, epochs: config.epochs, batch: done, batches: total, loss: null, imagesPerSecond: null, etaSeconds: null, lr: config.lr, message: predictingMessage(split, done, total) }),
      });
    }
    setRunStatus(db, runId, status);
    log('info', status === 'stopped' ? `Stopped at epoch ${position.epoch + 1}, batch ${position.batch}; resume continues from there.` : `Finished ${position.epoch} epoch(s).`);
    send({ type: 'finished', status, error: null, bestValTop1Error: position.best.top1, bestValTop5Error: position.best.top5 });
  } catch (err) {
    // A lost trainer (window, GPU) interrupts the run; an error in training fails it. Either resumes from the last checkpoint.
    const lost = err instanceof TrainerLost;
    const status: RunStatus = lost ? 'interrupted' : 'failed';
    const row = runRow(db, runId);
    const message = lost
      ? `${err.message} The run stopped at its last checkpoint (after epoch ${row.epochs_done}); resume continues from there, on this or any other backend.`
      : describeTrainingError(err);
    log('error', message);
    setRunStatus(db, runId, status, message);
    send({ type: 'finished', status, error: message, bestValTop1Error: row.best_top1, bestValTop5Error: row.best_top5 });
  } finally {
    stopHeartbeat();
    await Promise.all(closers.map((close) => close()));
    await trainer.close();
  }
}

/** A message a user can act on, for errors the backends raise in their own words. */
function describeTrainingError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/out of memory|OOM|Cannot allocate|memory access out of bounds|Aborted\(\)/i.test(message)) {
    return `The backend ran out of memory (${message.split('\n')[0]}). Try a smaller batch size or image size; the last checkpoint is intact.`;
  }
  return message;
}
