import fs from 'node:fs';
import path from 'node:path';
import { mediaUrl } from '../api/datasets.js';
import type { Handlers } from '../api/dispatch.js';
import { ApiError } from '../api/errors.js';
import { resultsMediaUrl } from '../api/results.js';
import type { MediaResolver } from '../api/media.js';
import type { StudioContext } from '../library/studio-context.js';
import { checkpointDir } from '../runs/checkpoint.js';
import { runRow } from '../runs/run-store.js';
import type { ActivationGrid } from './activations.js';
import { compareRuns } from './compare.js';
import { runEvalTask } from './eval-task.js';
import { filterGridLayout, readKernel, writeFilterGrid } from './filters.js';
import { FeatureCache, nearestTrainImages } from './neighbours.js';
import { predictionSets } from './predictions-store.js';
import { cellImages, imageResult, imagesOfRun, mistakes, requireSet, resultSummary, runClasses, snapshotEntry } from './results-queries.js';
import { runDirOf } from '../runs/run-folder.js';

type ResultMethod =
  | 'results.sets' | 'results.summary' | 'results.cell' | 'results.mistakes' | 'results.image'
  | 'results.neighbours' | 'results.filters' | 'results.activations' | 'results.gradcam' | 'results.compare';

/** Side of the square a Grad-CAM picture for the UI is shrunk to fit. */
const GRADCAM_SIDE = 480;

/** Layer names that may appear in a file path. */
const LAYER_NAME = /^[A-Za-z0-9_]{1,100}$/;

/** Whether `file` exists and is newer than the run's latest checkpoint. */
function freshFor(file: string, runDir: string): boolean {
  const made = fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs;
  const checkpoint = fs.statSync(path.join(checkpointDir(runDir), 'checkpoint.json'), { throwIfNoEntry: false })?.mtimeMs;
  return made !== undefined && checkpoint !== undefined && made >= checkpoint;
}

/** `/media/filters/<runId>.png`, `/media/activations/<runId>/<imageId>/<layer>.png` and `/media/gradcam/<runId>/<imageId>/<name>.png`, from the run folders. */
export function resultsMediaResolver(runsDir: string): MediaResolver {
  const route = /^\/media\/(?:filters\/([1-9]\d{0,15})\.png|(activations|gradcam)\/([1-9]\d{0,15})\/([1-9]\d{0,15})\/([A-Za-z0-9_-]{1,120})\.png)$/;
  return async (url) => {
    if (!['/media/filters/', '/media/activations/', '/media/gradcam/'].some((p) => url.pathname.startsWith(p))) {
      return null;
    }
    const m = route.exec(url.pathname);
    if (!m) {
      return { status: 404, message: 'Not found: filters are /media/filters/<runId>.png, activations /media/activations/<runId>/<imageId>/<layer>.png.' };
    }
    const file = m[1] ? path.join(runsDir, m[1], 'filters.png') : path.join(runsDir, m[3]!, m[2]!, m[4]!, `${m[5]}.png`);
    if (!fs.existsSync(file)) {
      return { status: 404, message: 'Not made yet: ask results.filters or results.activations first.' };
    }
    return { status: 200, contentType: 'image/png', file, cacheSeconds: 0 };
  };
}

/** `results.*`: the evaluation views, answered from stored predictions and cached features; pictures via /media/. */
export function resultHandlers(ctx: StudioContext, options: { nativeBinding?: string | undefined } = {}): Pick<Handlers, ResultMethod> {
  const { db, runsDir } = ctx.library;
  const features = new FeatureCache();
  ctx.media.push(resultsMediaResolver(runsDir));
  const runDir = (runId: number): string => runDirOf(ctx.library.dir, runId);
  const requireCheckpointOf = (runId: number): void => {
    runRow(db, runId);
    if (!fs.existsSync(path.join(checkpointDir(runDir(runId)), 'checkpoint.json'))) {
      throw new ApiError('conflict', `Run ${runId} has no checkpoint yet: it has not finished an epoch.`);
    }
  };

  return {
    'results.sets': async ({ runId }) => {
      runRow(db, runId);
      return predictionSets(db, runId);
    },
    'results.summary': async ({ runId, split }) => resultSummary(db, runId, split),
    'results.cell': async (q) => cellImages(db, q),
    'results.mistakes': async (q) => mistakes(db, q),
    'results.image': async ({ runId, imageId }) => imageResult(db, runId, imageId),
    'results.neighbours': async ({ runId, imageId, k }) => {
      const entry = snapshotEntry(db, runId, imageId);
      requireSet(db, runId, 'train');
      const near = nearestTrainImages(features, runDir(runId), entry.split, imageId, k);
      if (!near) {
        throw new ApiError('not_found', `Run ${runId} has no stored features for image ${imageId}; compute the ${entry.split} and train predictions with runs.predict.`);
      }
      const { ids } = near;
      const info = imagesOfRun(db, runId, ids);
      const classes = runClasses(db, runId);
      return {
        featureDim: near.dim,
        searched: near.searched,
        items: ids.map((id, i) => {
          const it = info.get(id) ?? { fileName: `image ${id}`, classId: null, className: null, label: 0 };
          return { id, fileName: it.fileName, thumbnail: mediaUrl.thumb(id), classId: it.classId, className: it.className, trueLabel: it.label, trueClass: classes[it.label] ?? `class ${it.label}`, distance: near.distances[i]! };
        }),
      };
    },
    'results.filters': async ({ runId }) => {
      requireCheckpointOf(runId);
      const file = path.join(runDir(runId), 'filters.png');
      const kernel = readKernel(runDir(runId), 'conv1');
      const layout = freshFor(file, runDir(runId)) ? filterGridLayout(kernel.shape) : await writeFilterGrid(kernel, file);
      return {
        url: `${resultsMediaUrl.filters(runId)}?v=${Math.round(fs.statSync(file).mtimeMs)}`,
        layer: kernel.layer,
        shape: kernel.shape,
        columns: layout.columns,
        rows: layout.rows,
        cell: layout.tileWidth,
        gap: layout.gap,
        width: layout.width,
        height: layout.height,
      };
    },
    'results.activations': async ({ runId, imageId, layer }) => {
      requireCheckpointOf(runId);
      snapshotEntry(db, runId, imageId);
      if (!LAYER_NAME.test(layer)) {
        throw new ApiError('bad_request', `"${layer}" is not a layer name.`);
      }
      const file = path.join(runDir(runId), 'activations', String(imageId), `${layer}.png`);
      const metaFile = file.replace(/\.png$/, '.json');
      let grid: ActivationGrid;
      if (freshFor(file, runDir(runId)) && fs.existsSync(metaFile)) {
        grid = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as ActivationGrid;
      } else {
        grid = await runEvalTask(ctx.library.dir, { kind: 'activations', runId, imageId, layer, file }, options.nativeBinding);
        fs.writeFileSync(metaFile, JSON.stringify(grid));
      }
      return { url: `${resultsMediaUrl.activations(runId, imageId, layer)}?v=${Math.round(fs.statSync(file).mtimeMs)}`, ...grid };
    },
    'results.gradcam': async ({ runId, imageId, layer, classLabel }) => {
      requireCheckpointOf(runId);
      snapshotEntry(db, runId, imageId);
      if (layer !== undefined && !LAYER_NAME.test(layer)) {
        throw new ApiError('bad_request', `"${layer}" is not a layer name.`);
      }
      const classIndex = classLabel === undefined ? null : runClasses(db, runId).indexOf(classLabel);
      if (classIndex === -1) {
        throw new ApiError('bad_request', `Run ${runId} has no class "${classLabel}"; its classes are ${runClasses(db, runId).join(', ')}.`);
      }
      const image = db.prepare('SELECT path FROM images WHERE id = ?').get(imageId) as { path: string } | undefined;
      if (!image) {
        throw new ApiError('not_found', `Image ${imageId} has left the library: its file is no longer known.`);
      }
      const name = `${layer ?? 'last'}-${classIndex ?? 'top1'}`;
      const file = path.join(runDir(runId), 'gradcam', String(imageId), `${name}.png`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const task = { kind: 'explain' as const, runId, files: [image.path], outputs: [file], layer: layer ?? null, classLabel: classLabel ?? null, maxSide: GRADCAM_SIDE };
      const done = await runEvalTask(ctx.library.dir, task, options.nativeBinding);
      const item = done.items[0]!;
      if ('error' in item) {
        throw new ApiError('conflict', `Image ${imageId} (${image.path}) cannot be explained: ${item.error}.`);
      }
      return {
        url: `${resultsMediaUrl.gradcam(runId, imageId, name)}?v=${Math.round(fs.statSync(file).mtimeMs)}`,
        layer: item.layer,
        convLayers: done.convLayers,
        label: item.label,
        probability: Math.min(1, item.probability),
        className: item.class,
        classProbability: Math.min(1, item.classProbability),
        width: item.width,
        height: item.height,
      };
    },
    'results.compare': async (q) => compareRuns(db, q),
  };
}
