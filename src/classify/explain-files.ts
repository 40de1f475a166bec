// Grad-CAM of image files with a loaded classifier (a run's or an imported model's): the classify worker's
// "Why?" and `convnet explain` both come here; the engine is model/grad-cam.ts, the picture images/cam-overlay.ts.
import * as tf from '@tensorflow/tfjs';
import { writeCamOverlay } from '../images/cam-overlay.js';
import { convLayerNames, defaultCamLayer, gradCam } from '../model/grad-cam.js';
import { classifyViews, decodeFile, inputBatch, type Classifier } from './pipeline.js';

/** Which layer and class to explain in each of `files`, and where each overlay goes (`outputs[i]` for `files[i]`). */
export interface ExplainTargets {
  files: string[];
  outputs: string[];
  /** A convolution layer; null for the last one. */
  layer: string | null;
  /** A class label to explain; null for each image's top-1. */
  classLabel: string | null;
  /** Shrink overlays to fit this square; omitted: the image's own size. */
  maxSide?: number;
}

/** One image explained: its top-1 class, the class the map is for, and the overlay written; or why not. */
export type ExplainedFile =
  | { file: string; label: string; probability: number; class: string; classProbability: number; layer: string; out: string; width: number; height: number }
  | { file: string; error: string };

/**
 * Grad-CAM overlays of image files with a loaded classifier (`who` names it in errors: "Run 3", "The model in …"):
 * each file is decoded and centre-cropped as `convnet classify` does (the classifier's own preprocessing),
 * explained at the chosen layer, and its overlay written. An unknown layer or class fails the whole request
 * with the choices listed; a file that cannot be read or decoded is reported with its reason and the rest go on.
 * The classifier stays loaded (the caller owns it).
 */
export async function explainWithClassifier(classifier: Classifier, who: string, req: ExplainTargets): Promise<{ layer: string; convLayers: string[]; items: ExplainedFile[] }> {
  const { model, spec } = classifier;
  const convLayers = convLayerNames(model);
  const layer = req.layer ?? defaultCamLayer(model);
  if (!convLayers.includes(layer)) {
    throw new Error(`${who}'s network has no convolution layer "${layer}"; its convolution layers are ${convLayers.join(', ')}.`);
  }
  let classIndex: number | undefined;
  if (req.classLabel !== null) {
    classIndex = spec.classes.indexOf(req.classLabel);
    if (classIndex < 0) {
      throw new Error(`${who} has no class "${req.classLabel}"; its classes are ${spec.classes.join(', ')}.`);
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
  return { layer, convLayers, items };
}
