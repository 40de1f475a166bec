import fs from 'node:fs';
import path from 'node:path';
import type { ClassifierSource } from '../api/classify.js';
import type { Handlers } from '../api/dispatch.js';
import { ApiError } from '../api/errors.js';
import type { StudioContext } from '../library/studio-context.js';
import { prepareExportDir } from './export-folder.js';
import { explainClassified } from './explain-classified.js';
import { ClassifyJobs } from './jobs.js';
import { classifiedMediaResolver } from './media.js';
import { runModelLocation, type ModelLocation } from './model-location.js';
import { deleteModel, getModel, listModels, modelDir } from './models-store.js';
import { compareParity, paritySample, runExportedPredict } from './parity.js';
import { resultsCsv, resultsJson } from './results-format.js';

/** The methods this domain answers. */
export type ClassifyMethod =
  | 'classify.files' | 'classify.job' | 'classify.cancel' | 'classify.cost' | 'classify.gradcam' | 'classify.exportResults' | 'classify.export'
  | 'models.list' | 'models.delete';

const jobsByLibrary = new WeakMap<object, ClassifyJobs>();
const exportsByLibrary = new WeakMap<object, Map<number, string>>();

/** The folder this studio last exported run `runId` to (for a browser to download), or null. */
export function lastExportDir(ctx: Pick<StudioContext, 'library'>, runId: number): string | null {
  return exportsByLibrary.get(ctx.library)?.get(runId) ?? null;
}

/** The classification jobs of a studio (created with its classify handlers). */
export function classifyJobsOf(ctx: Pick<StudioContext, 'library'>): ClassifyJobs {
  const jobs = jobsByLibrary.get(ctx.library);
  if (!jobs) {
    throw new Error('classifyHandlers(ctx) was not installed on this studio.');
  }
  return jobs;
}

/**
 * `classify.*`, `models.list` and `models.delete`: offline inference on files and folders, export of runs as
 * models. Bringing a model in (`models.import`, `models.fetch*`) is pretrained/handlers.ts.
 */
export function classifyHandlers(ctx: StudioContext, options: { nativeBinding?: string | undefined } = {}): Pick<Handlers, ClassifyMethod> {
  const { library } = ctx;
  const jobs = new ClassifyJobs(ctx.events, options.nativeBinding);
  jobsByLibrary.set(library, jobs);
  ctx.closers.push(() => jobs.close());
  ctx.media.push(classifiedMediaResolver(jobs));
  const exportDirs = new Map<number, string>();
  exportsByLibrary.set(library, exportDirs);

  /** Where the weights of a source are; throws not_found / conflict in words a user can act on. */
  const locate = (source: ClassifierSource): ModelLocation => {
    if ('runId' in source) {
      return runModelLocation(library, source.runId);
    }
    if ('modelId' in source) {
      getModel(library, source.modelId);
      return { kind: 'folder', dir: modelDir(library, source.modelId) };
    }
    const dir = path.resolve(source.modelDir);
    if (!fs.existsSync(path.join(dir, 'model.json'))) {
      throw new ApiError('not_found', `${dir} is not a model folder (no model.json).`);
    }
    return { kind: 'folder', dir };
  };

  return {
    'classify.files': async ({ source, paths, topK, tenCrop }) => jobs.start(locate(source), paths, topK, tenCrop),
    'classify.job': async ({ jobId, wait }) => (wait ? jobs.wait(jobId) : jobs.get(jobId)),
    'classify.cancel': async ({ jobId }) => jobs.cancel(jobId),
    'classify.cost': async ({ source }) => jobs.request({ type: 'cost', location: locate(source) }),
    'classify.gradcam': async (q) => explainClassified(jobs, q),
    'classify.exportResults': async ({ jobId, format, outFile }) => {
      const job = jobs.get(jobId);
      if (job.status === 'running') {
        throw new ApiError('conflict', 'The job is still running; export its results once it has finished.');
      }
      const text = format === 'csv' ? resultsCsv(job) : resultsJson(job);
      const rows = job.results.length + job.errors.length;
      if (!outFile) {
        return { format, rows, file: null, text };
      }
      const file = path.resolve(outFile);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      return { format, rows, file, text: null };
    },
    'classify.export': async ({ runId, outDir }) => {
      const location = locate({ runId });
      const dir = path.resolve(outDir);
      const existed = fs.existsSync(dir);
      prepareExportDir(dir);
      const sample = paritySample(library.db, runId);
      try {
        const reply = await jobs.request({ type: 'export', location, outDir: dir, sample: sample.paths });
        const exported = sample.paths.length ? await runExportedPredict(dir, sample.paths, reply.backend) : [];
        exportDirs.set(runId, dir);
        return { dir, files: reply.files, parity: compareParity(reply.sample, exported, sample.split, exported.length ? reply.backend : null) };
      } catch (err) {
        if (!existed) {
          fs.rmSync(dir, { recursive: true, force: true });
        }
        throw err;
      }
    },
    'models.list': async () => listModels(library),
    'models.delete': async ({ id }) => ({ deleted: deleteModel(library, id) }),
  };
}
