import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../api/app.js';
import { activateBackend, chooseBackend } from '../backends/index.js';
import type { ColorStats } from '../images/color-stats.js';
import { predictAfterTraining, predictingMessage } from '../evaluate/run-eval.js';
import { ARCHS, buildModel, type ArchName } from '../model/index.js';
import { loadCheckpoint, modelFromCheckpoint, removeLeftovers, saveCheckpoint } from './checkpoint.js';
import { keyedWeights, trainLoop, type LoopPosition } from './loop.js';
import type { FromRunWorker } from './messages.js';
import { prepareRunData } from './run-data.js';
import { startHeartbeat } from './run-owner.js';
import { logRun, recordEpoch, runRow, setRunStatus } from './run-store.js';
import { initialSchedule } from './schedule.js';
import { PaperSgd } from './sgd.js';
import { FAST_HEAD_VIEWS, trainFastHead, type FastHeadTimes } from './fast-head.js';
import { setUpFineTune } from './init-from.js';
import { loadParent, statsWithParentNorm } from './parent.js';
import { configOfRun } from './run-config.js';

/** Pause/stop requests from the main thread, read between batches. */
export interface RunControl {
  paused: boolean;
  stopRequested: boolean;
  /** Resolves when the run is resumed or stopped. */
  waitWhilePaused(): Promise<void>;
}

/** Trains (or resumes) one run to its end; everything it learns goes to SQLite, the run folder and `send`. */
export async function trainRun(db: Database, libraryDir: string, runId: number, resume: boolean, control: RunControl, send: (m: FromRunWorker) => void, backend?: BackendName): Promise<void> {
  const run = runRow(db, runId);
  const config = configOfRun(run);
  const runDir = path.join(libraryDir, 'runs', String(runId));
  fs.mkdirSync(runDir, { recursive: true });
  const log = (level: 'info' | 'warn' | 'error', message: string): void => {
    logRun(db, runId, level, message);
    send({ type: 'log', level, message });
  };
  // This process owns the run (claimed when it was started or resumed): no one else writes its checkpoint.
  removeLeftovers(runDir, log);
  const stopHeartbeat = startHeartbeat(db, runId);
  const closers: Array<() => Promise<void>> = [];
  try {
    setRunStatus(db, runId, 'running');
    db.prepare('UPDATE runs SET started_at = COALESCE(started_at, ?), error = NULL, finished_at = NULL WHERE id = ?').run(Date.now(), runId);
    send({ type: 'status', status: 'running' });
    const prepare = (message: string, batch = 0, batches = 0): void =>
      send({ type: 'progress', phase: 'preparing', epoch: 0, epochs: config.epochs, batch, batches, loss: null, imagesPerSecond: null, etaSeconds: null, lr: config.lr, message });

    // Backend: the user's choice or the best available here; recorded with the run.
    const choice = await chooseBackend(backend ?? config.backend, config.threads);
    const active = await activateBackend(choice.name, config.threads);
    db.prepare('UPDATE runs SET backend = ?, device = ?, threads = ? WHERE id = ?').run(active, choice.device, choice.threads, runId);
    const threads = choice.threads ? `, ${choice.threads} thread${choice.threads === 1 ? '' : 's'}` : '';
    log('info', `Backend ${active} (${choice.device ?? 'unknown device'}${threads}): ${choice.reason}`);

    // Data: the snapshot taken at the first start, so edits to the library never change a run midway.
    const checkpoint = resume ? loadCheckpoint(runDir) : null;
    const start: LoopPosition = checkpoint?.meta.position ?? {
      epoch: 0,
      batch: 0,
      lossSum: 0,
      images: 0,
      seconds: 0,
      schedule: initialSchedule(config),
      best: { top1: null, top5: null },
    };
    // A fine-tuned run's first start: the parent's weights, and its input normalisation for this run's data.
    const parent = !checkpoint && config.initFrom ? await loadParent(libraryDir, config.initFrom) : null;
    const data = await prepareRunData(db, libraryDir, run, config, {
      reuseSnapshot: resume,
      savedStats: checkpoint?.meta.colorStats as ColorStats | undefined,
      adjustStats: parent ? (s) => statsWithParentNorm(s, parent.norm) : undefined,
      start,
      progress: (message, done = 0, total = 0) => prepare(message, done, total),
      log,
    });
    closers.push(() => data.close());
    const { snapshot, stats, inputSize, trainLoader, valLoader } = data;

    // Model and optimizer, fresh or from the checkpoint (which may come from another backend).
    const arch = config.arch as ArchName;
    const init = config.init ?? ARCHS[arch].defaultInit;
    const model = checkpoint
      ? await modelFromCheckpoint(checkpoint)
      : buildModel(arch, { numClasses: snapshot.classes.length, inputSize, lrn: config.lrn ?? ARCHS[arch].defaultLrn, dropout: config.dropout, init, seed: config.seed });
    const lrMult = setUpFineTune(model, config, runDir, parent?.model ?? null, log);
    const sgd = new PaperSgd(keyedWeights(model), { momentum: config.momentum, weightDecay: config.weightDecay, ...(lrMult ? { lrMult } : {}) });
    if (checkpoint) {
      sgd.setState(checkpoint.sgd);
      log('info', `Resuming from the checkpoint after epoch ${checkpoint.meta.position.epoch}${checkpoint.meta.position.batch ? `, batch ${checkpoint.meta.position.batch}` : ''}.`);
    }
    log('info', `Training ${arch} at ${inputSize} px on ${data.train.length} images (${data.val.length} validation, ${snapshot.classes.length} classes).`);

    const meta = (position: LoopPosition) => ({
      runId,
      arch,
      config,
      classes: snapshot.classes,
      snapshotHash: snapshot.hash,
      colorStats: stats,
      position,
      backend: active,
    });
    const fastHead = config.freeze === 'all-but-last';
    const augmented = config.augment.crop || config.augment.flip || config.augment.pca;
    const result = await (fastHead ? trainFastHead : trainLoop)({
      batchSize: config.batchSize,
      views: augmented ? FAST_HEAD_VIEWS : 1,
      onExtract: (split, done, total) => prepare(`Computing ${split === 'train' ? `the training images' features once${augmented ? ` (${FAST_HEAD_VIEWS} augmented views each)` : ''}` : 'the validation features'}: batch ${done} / ${total}`, done, total),
      recordEpoch: (metrics, pos) => {
        recordEpoch(db, runId, metrics, pos);
        send({ type: 'epoch', metrics });
      },
      model,
      sgd,
      config,
      numClasses: snapshot.classes.length,
      train: trainLoader,
      val: valLoader,
      start,
      hooks: {
        progress: (p) => send({ type: 'progress', ...p, epochs: config.epochs, message: null }),
        epochEnd: async (metrics, pos) => {
          await saveCheckpoint(runDir, model, await sgd.getState(), meta(pos));
          recordEpoch(db, runId, metrics, pos);
          send({ type: 'epoch', metrics });
        },
        control: async () => {
          if (control.paused && !control.stopRequested) {
            setRunStatus(db, runId, 'paused');
            send({ type: 'status', status: 'paused' });
            await control.waitWhilePaused();
            if (!control.stopRequested) {
              setRunStatus(db, runId, 'running');
              send({ type: 'status', status: 'running' });
            }
          }
          return control.stopRequested ? 'stop' : 'continue';
        },
        stopped: async (pos) => {
          await saveCheckpoint(runDir, model, await sgd.getState(), meta(pos));
          db.prepare('UPDATE runs SET seconds = ? WHERE id = ?').run(pos.seconds, runId);
        },
      },
    });
    const { outcome, position } = result;
    const times = 'times' in result ? (result.times as FastHeadTimes) : null;
    if (times) {
      log('info', `Fast head: features computed in ${times.extractSeconds.toFixed(1)} s, the last layer trained in ${times.trainSeconds.toFixed(1)} s.`);
    }
    const status = outcome === 'stopped' ? 'stopped' : 'completed';
    if (outcome === 'time-limit') {
      log('info', `Time limit of ${config.timeLimitMinutes} min reached after ${position.epoch} epoch(s); evaluated and checkpointed.`);
    }
    model.dispose();
    sgd.dispose();
    if (status === 'completed') {
      // Before run.finished, so the result views have data the moment the UI hears of it.
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
    const message = describeTrainingError(err);
    log('error', message);
    setRunStatus(db, runId, 'failed', message);
    const row = runRow(db, runId);
    send({ type: 'finished', status: 'failed', error: message, bestValTop1Error: row.best_top1, bestValTop5Error: row.best_top5 });
  } finally {
    stopHeartbeat();
    await Promise.all(closers.map((close) => close()));
    tf.disposeVariables();
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
