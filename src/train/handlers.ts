// `runs.*`: the API of training runs: start (with a fine-tuned run's parent), list, read, pause, resume,
// stop, evaluate, predict, tag, delete, and the defaults the form starts from. Workers are run-manager.ts'.
import fs from 'node:fs';
import path from 'node:path';
import type { Handlers } from '../api/dispatch.js';
import { ApiError } from '../api/errors.js';
import { Schedule, type RunStatus, type RunSummary } from '../api/runs.js';
import { runEvalTask } from '../evaluate/eval-task.js';
import { ARCHS } from '../model/index.js';
import type { StudioContext } from '../library/studio-context.js';
import { removeStaleCheckpointFolders } from '../runs/checkpoint.js';
import { configDiff, DEFAULT_CONFIG, resolveConfig } from '../runs/config.js';
import { measureStepTime } from './estimate.js';
import { checkFineTuneBackend } from './fine-tune-config.js';
import { configFromParent, describeParent } from './parent.js';
import { configOfRun } from '../runs/run-config.js';
import { runDirOf } from '../runs/run-folder.js';
import { registerRunManager, RunManager } from './run-manager.js';
import { describeOwner, LIVE_STATUSES } from '../runs/run-owner.js';
import { claimRun, deleteRunRows, getRunDetail, getRunSummary, insertRun, listRuns, restoreRunStatus, runRow, settleOrphanedRuns, updateRunMeta } from '../runs/run-store.js';

type RunMethod =
  | 'runs.start' | 'runs.list' | 'runs.get' | 'runs.pause' | 'runs.resume' | 'runs.stop' | 'runs.defaults'
  | 'runs.evaluate' | 'runs.predict' | 'runs.update' | 'runs.delete' | 'runs.stepTime';

/** `runs.*`: start, watch and control training runs. */
export function runHandlers(ctx: StudioContext, options: { nativeBinding?: string | undefined } = {}): Pick<Handlers, RunMethod> {
  const { db } = ctx.library;
  const manager = new RunManager(ctx, options.nativeBinding);
  registerRunManager(ctx.library, manager);
  ctx.closers.push(() => manager.closeAll());
  settleOrphanedRuns(db);
  sweepCheckpointFolders(ctx, db);

  const summary = (id: number): RunSummary => getRunSummary(db, id);
  const requireStatus = (id: number, allowed: RunStatus[], verb: string): void => {
    const { status } = runRow(db, id);
    if (!allowed.includes(status)) {
      throw new ApiError('conflict', `Run ${id} is ${status}; it cannot be ${verb}.`);
    }
  };
  /** Throws `conflict` naming the process (PID, host) when a run is live in another process. */
  const requireNotElsewhere = (id: number, what: string): void => {
    const row = runRow(db, id);
    if ((LIVE_STATUSES as readonly string[]).includes(row.status) && !manager.isTraining(id)) {
      throw new ApiError('conflict', `Run ${id} is ${row.status === 'queued' ? 'starting' : row.status} in ${describeOwner(row)}; ${what}`);
    }
  };

  return {
    'runs.start': async (input) => {
      const parent = input.initFrom ? describeParent(ctx.library, input.initFrom) : null;
      const config = resolveConfig(parent ? configFromParent(input, parent) : input);
      manager.checkBackend(config.backend);
      checkFineTuneBackend(config);
      const dataset = db.prepare('SELECT id, name FROM datasets WHERE id = ?').get(config.datasetId) as { id: number; name: string } | undefined;
      if (!dataset) {
        throw new ApiError('not_found', `Dataset ${config.datasetId} does not exist.`);
      }
      const id = insertRun(db, dataset, config, configDiff(config), parent);
      try {
        manager.checkIdle();
        // A fine-tuned run trains in Node (the compute window's trainer starts from scratch only).
        manager.launch(id, false, parent ? undefined : await manager.resolveBackend(id, config.backend));
      } catch (err) {
        deleteRunRows(db, id);
        throw err;
      }
      return { id };
    },
    'runs.list': async () => listRuns(db),
    'runs.get': async ({ id }) => getRunDetail(db, id),
    'runs.pause': async ({ id }) => {
      requireNotElsewhere(id, 'pause it there.');
      requireStatus(id, ['running'], 'paused');
      manager.control(id, 'pause');
      return summary(id);
    },
    'runs.resume': async ({ id }) => {
      const { status } = runRow(db, id);
      if (status === 'paused' && manager.control(id, 'resume')) {
        return summary(id);
      }
      requireNotElsewhere(id, 'it can be resumed once it stops there.');
      requireStatus(id, ['paused', 'stopped', 'interrupted', 'failed', 'completed'], 'resumed');
      if (status === 'completed') {
        const row = runRow(db, id);
        if (row.epochs_done >= configOfRun(row).epochs) {
          throw new ApiError('conflict', `Run ${id} already finished all its epochs.`);
        }
      }
      const runDir = runDirOf(ctx.library.dir, id);
      if (!fs.existsSync(path.join(runDir, 'checkpoint', 'checkpoint.json')) && runRow(db, id).epochs_done > 0) {
        throw new ApiError('conflict', `Run ${id} has no checkpoint to resume from.`);
      }
      manager.checkIdle();
      const saved = configOfRun(runRow(db, id));
      // A fine-tuned run resumes in Node, like it started (its layers' learning rates are applied there).
      const backend = saved.initFrom ? undefined : await manager.resolveBackend(id, saved.backend);
      // Atomically this process's (queued) before its worker starts: another process resuming it at the same moment gets a conflict.
      const before = runRow(db, id);
      claimRun(db, id);
      try {
        manager.launch(id, true, backend);
      } catch (err) {
        restoreRunStatus(db, id, before);
        throw err;
      }
      return summary(id);
    },
    'runs.stop': async ({ id }) => {
      if (!manager.control(id, 'stop')) {
        requireNotElsewhere(id, 'stop it there (Ctrl+C in its terminal, or Stop in the app that trains it).');
        requireStatus(id, [], 'stopped (it is not training)');
      }
      return summary(id);
    },
    'runs.evaluate': async ({ id, split, tenCrop }) => {
      runRow(db, id);
      return (await runEvalTask(ctx.library.dir, { kind: 'predict', runId: id, split, tenCrop }, options.nativeBinding)).evaluation;
    },
    'runs.predict': async ({ id, split, tenCrop }) => {
      runRow(db, id);
      return (await runEvalTask(ctx.library.dir, { kind: 'predict', runId: id, split, tenCrop }, options.nativeBinding)).set;
    },
    'runs.update': async ({ id, tags, note }) => {
      updateRunMeta(db, id, { tags, note });
      return summary(id);
    },
    'runs.delete': async ({ id }) => {
      requireNotElsewhere(id, 'stop it there before deleting it.');
      const { status } = runRow(db, id);
      if (manager.isTraining(id) || status === 'running' || status === 'paused' || status === 'queued') {
        throw new ApiError('conflict', `Run ${id} is ${status === 'queued' ? 'starting' : status}; stop it before deleting it.`);
      }
      // Files first: a failure leaves the row, so the user can retry; rows go in one statement.
      fs.rmSync(runDirOf(ctx.library.dir, id), { recursive: true, force: true });
      return { deleted: deleteRunRows(db, id) };
    },
    'runs.stepTime': (input) => measureStepTime(input),
    'runs.defaults': async () => {
      const { datasetId: _d, ...config } = DEFAULT_CONFIG;
      return {
        config,
        archs: Object.values(ARCHS).map((a) => ({
          name: a.name,
          title: a.title,
          description: a.description,
          defaultInputSize: a.defaultInputSize,
          defaultLrn: a.defaultLrn,
          defaultInit: a.defaultInit,
        })),
        schedules: {
          plateau: Schedule.options[0].parse({ kind: 'plateau' }),
          step: Schedule.options[1].parse({ kind: 'step' }),
          cosine: Schedule.options[2].parse({ kind: 'cosine' }),
        },
      };
    },
  };
}

/** Removes checkpoint.tmp-* folders that killed writers left in the runs no process trains (at library open). */
function sweepCheckpointFolders(ctx: StudioContext, db: StudioContext['library']['db']): void {
  const rows = db.prepare(`SELECT id FROM runs WHERE status NOT IN ('queued', 'running', 'paused')`).all() as Array<{ id: number }>;
  for (const { id } of rows) {
    try {
      removeStaleCheckpointFolders(runDirOf(ctx.library.dir, id), true);
    } catch (err) {
      ctx.events.emit('app.log', { level: 'warn', message: `Run ${id}: could not remove a stale checkpoint folder: ${err instanceof Error ? err.message : String(err)}`, time: Date.now() });
    }
  }
}
