// `suspects.*` and `lrFind.*`: scans run in insight workers (one per run at a time, stoppable, progress as
// events); their results are read back from the library.
import fs from 'node:fs';
import path from 'node:path';
import type { Handlers } from '../api/dispatch.js';
import { ApiError } from '../api/errors.js';
import type { SuspectJob } from '../api/insight.js';
import type { StudioContext } from '../library/studio-context.js';
import { runRow } from '../runs/run-store.js';
import { startInsightTask, type InsightJob } from './insight-task.js';
import { latestLrFind } from './lr-find.js';
import { suspectPage, suspectScan } from './suspects-store.js';

type InsightMethod = 'suspects.start' | 'suspects.stop' | 'suspects.list' | 'lrfinder.run' | 'lrfinder.latest' | 'augment.preview';

/** `/media/augment-preview/<datasetId>.png`: the latest augmentation preview of a dataset. */
const PREVIEW_ROUTE = /^\/media\/augment-preview\/([1-9]\d{0,15})\.png$/;

/** The handlers of the insight methods; running scans are stopped when the studio closes. */
export function insightHandlers(ctx: StudioContext, options: { nativeBinding?: string | undefined } = {}): Pick<Handlers, InsightMethod> {
  const { db, dir } = ctx.library;
  const previewFile = (datasetId: number): string => path.join(dir, 'cache', 'previews', `augment-${datasetId}.png`);
  ctx.media.push(async (url) => {
    const m = PREVIEW_ROUTE.exec(url.pathname);
    if (!m) {
      return null;
    }
    const file = previewFile(Number(m[1]));
    return fs.existsSync(file) ? { status: 200, contentType: 'image/png', file, cacheSeconds: 0 } : { status: 404, message: 'No preview yet: ask augment.preview first.' };
  });
  const jobs = new Map<number, { state: SuspectJob; job: InsightJob<{ kind: 'suspects'; runId: number; folds: number; epochs: number | null }> | null }>();
  ctx.closers.push(async () => {
    const running = [...jobs.values()].filter((j) => j.job && j.state.status === 'running');
    running.forEach((j) => j.job!.stop());
    await Promise.allSettled(running.map((j) => j.job!.done));
  });

  return {
    'suspects.start': async ({ runId, folds, epochs }) => {
      const run = runRow(db, runId);
      if (jobs.get(runId)?.state.status === 'running') {
        throw new ApiError('conflict', `A suspected-label scan of run ${runId} is already running.`);
      }
      if (!run.snapshot_hash) {
        throw new ApiError('conflict', `Run ${runId} has not started yet, so it has no data to check.`);
      }
      const state: SuspectJob = { runId, status: 'running', fold: 0, folds, phase: 'preparing', epoch: 0, epochs: epochs ?? 0, batch: 0, batches: 0, message: 'Starting…', error: null };
      const entry: { state: SuspectJob; job: InsightJob<{ kind: 'suspects'; runId: number; folds: number; epochs: number | null }> | null } = { state, job: null };
      jobs.set(runId, entry);
      const task = { kind: 'suspects' as const, runId, folds, epochs: epochs ?? null };
      entry.job = startInsightTask(dir, task, (p) => {
        entry.state = { ...entry.state, ...p };
        ctx.events.emit('suspects.progress', entry.state);
      }, options.nativeBinding);
      entry.job.done.then(
        (scan) => {
          entry.state = scan
            ? { ...entry.state, status: 'completed', message: `${scan.disagreements} suspected label(s) among ${scan.images} training images (${scan.folds} folds × ${scan.epochs} epochs, ${Math.round(scan.seconds)} s).` }
            : { ...entry.state, status: 'stopped', message: 'Stopped; nothing was stored.' };
          ctx.events.emit('suspects.progress', entry.state);
        },
        (err: unknown) => {
          const message = err instanceof Error ? err.message : String(err);
          entry.state = { ...entry.state, status: 'failed', message, error: message };
          ctx.events.emit('suspects.progress', entry.state);
        },
      );
      ctx.events.emit('suspects.progress', state);
      return state;
    },
    'suspects.stop': async ({ runId }) => {
      runRow(db, runId);
      const entry = jobs.get(runId);
      if (!entry || entry.state.status !== 'running') {
        return entry?.state ?? null;
      }
      entry.job!.stop();
      await entry.job!.done.catch(() => null);
      return entry.state;
    },
    'suspects.list': async ({ runId, offset, limit }) => {
      runRow(db, runId);
      const scan = suspectScan(db, runId);
      const page = scan ? suspectPage(db, runId, { offset, limit }) : { total: 0, items: [] };
      return { scan, job: jobs.get(runId)?.state ?? null, ...page };
    },
    'lrfinder.run': async ({ config, steps, minLr, maxLr }) => {
      const job = startInsightTask(dir, { kind: 'lr-find', config, steps, minLr, maxLr }, (p) => ctx.events.emit('lrfinder.progress', { datasetId: config.datasetId, ...p }), options.nativeBinding);
      const result = await job.done;
      if (!result) {
        throw new ApiError('conflict', 'The learning-rate sweep was stopped.');
      }
      return result;
    },
    'augment.preview': async ({ config, images, variants }) => {
      if (!db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(config.datasetId)) {
        throw new ApiError('not_found', `There is no dataset ${config.datasetId}.`);
      }
      const file = previewFile(config.datasetId);
      const preview = await startInsightTask(dir, { kind: 'augment-preview', config, images, variants, file }, () => undefined, options.nativeBinding).done;
      return { url: `/media/augment-preview/${config.datasetId}.png?v=${Date.now()}`, ...preview };
    },
    'lrfinder.latest': async ({ datasetId }) => latestLrFind(db, datasetId),
  };
}
