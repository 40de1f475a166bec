import type { Database } from 'better-sqlite3';
import * as tf from '@tensorflow/tfjs';
import { loadClassifier } from '../classify/load.js';
import { classifyViews, decodeFile, inputBatch } from '../classify/pipeline.js';
import { runRow } from '../train/run-store.js';
import { writeCamOverlay } from './cam-overlay.js';
import { convLayerNames, defaultCamLayer, gradCam } from './grad-cam.js';
import { runDirOf } from '../train/run-folder.js';
import { activateRunBackend, requireCheckpoint } from './run-eval.js';
import { configOfRun } from '../train/run-config.js';

/** Which images to explain with which run, and where each overlay goes (`outputs[i]` for `files[i]`). */
export interface ExplainRequest {
  runId: number;
  files: string[];
  outputs: string[];
  /** A convolution layer; null for the last one. */
  layer: string | null;
  /** A class label to explain; null for each image's top-1. */
  classLabel: string | null;
  /** Shrink overlays to fit this square (a picture for a screen); omitted: the image's own size. */
  maxSide?: number;
}

/** One image explained: its top-1 class, the class the map is for, and the overlay written; or why not. */
export type ExplainedFile =
  | { file: string; label: string; probability: number; class: string; classProbability: number; layer: string; out: string; width: number; height: number }
  | { file: string; error: string };

/** What `explainFiles` answers. */
export interface ExplainResult {
  runId: number;
  layer: string;
  convLayers: string[];
  backend: string;
  items: ExplainedFile[];
}

/**
 * Grad-CAM overlays of image files with a run's latest checkpoint: each file is decoded and centre-cropped
 * as `convnet classify` does (the run's own preprocessing), explained at the chosen layer, and its overlay
 * written at the image's own size. An unknown layer or class fails the whole request with the choices
 * listed; a file that cannot be read or decoded is reported with its reason and the rest go on.
 */
export async function explainFiles(db: Database, libraryDir: string, req: ExplainRequest): Promise<ExplainResult> {
  const config = configOfRun(runRow(db, req.runId));
  requireCheckpoint(libraryDir, req.runId);
  const backend = await activateRunBackend(config);
  const { model, spec } = await loadClassifier({ kind: 'run', runDir: runDirOf(libraryDir, req.runId) });
  try {
    const convLayers = convLayerNames(model);
    const layer = req.layer ?? defaultCamLayer(model);
    if (!convLayers.includes(layer)) {
      throw new Error(`Run ${req.runId}'s network has no convolution layer "${layer}"; its convolution layers are ${convLayers.join(', ')}.`);
    }
    let classIndex: number | undefined;
    if (req.classLabel !== null) {
      classIndex = spec.classes.indexOf(req.classLabel);
      if (classIndex < 0) {
        throw new Error(`Run ${req.runId} has no class "${req.classLabel}"; its classes are ${spec.classes.join(', ')}.`);
      }
    }
    const views = classifyViews(spec, false);
    const items: ExplainedFile[] = [];
    for (const [i, file] of req.files.entries()) {
      const decoded = await decodeFile(file, spec.resizeSize);
      if (!decoded.ok) {
        items.push({ file, error: decoded.error.reason });
        continue;
      }
      const x = tf.tensor4d(inputBatch(spec, [decoded.pixels], views), [1, spec.inputSize, spec.inputSize, 3]);
      const cam = (() => {
        try {
          return gradCam(model, x, layer, classIndex);
        } finally {
          x.dispose();
        }
      })();
      const p = cam.probabilities;
      const top = p.indexOf(Math.max(...p));
      const out = req.outputs[i]!;
      try {
        const size = await writeCamOverlay(file, cam, spec, out, req.maxSide);
        items.push({ file, label: spec.classes[top]!, probability: p[top]!, class: spec.classes[cam.classIndex]!, classProbability: p[cam.classIndex]!, layer, out, ...size });
      } catch (err) {
        items.push({ file, error: `could not write the overlay ${out}: ${(err as Error).message.split('\n')[0]}` });
      }
    }
    return { runId: req.runId, layer, convLayers, backend, items };
  } finally {
    model.dispose();
  }
}
