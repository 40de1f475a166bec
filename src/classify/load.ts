import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '../model/index.js'; // registers LocalResponseNormalization and GroupedConv2D for deserialisation
import { loadCheckpoint, modelFromCheckpoint, checkpointDir } from '../runs/checkpoint.js';
import { inspectModelFolder, readModelArtifacts } from './model-folder-check.js';
import type { Classifier } from './pipeline.js';
import { specFromCheckpoint, type ClassifierSpec } from './spec.js';

import type { ModelLocation } from './model-location.js';
export type { ModelLocation };

/** Loads the network and its input rule from a run's checkpoint or a model folder. */
export async function loadClassifier(location: ModelLocation): Promise<Classifier> {
  if (location.kind === 'run') {
    const checkpoint = loadCheckpoint(location.runDir);
    if (!checkpoint) {
      throw new Error('This run has no checkpoint yet: it has not finished an epoch.');
    }
    return checkedClassifier(await modelFromCheckpoint(checkpoint), specFromCheckpoint(checkpoint.meta), 'the checkpoint');
  }
  const folder = inspectModelFolder(location.dir);
  const model = await tf.loadLayersModel(tf.io.fromMemory(readModelArtifacts(location.dir, folder)));
  return checkedClassifier(model, folder.spec, location.dir);
}

/**
 * The loaded network against its spec: one output per class and the input size the spec crops to. A mismatch
 * would slice the probabilities with the wrong stride (every image answered with another's scores), so it fails here.
 */
export function checkedClassifier(model: tf.LayersModel, spec: ClassifierSpec, from: string): Classifier {
  const out = model.outputs[0]?.shape;
  const inp = model.inputs[0]?.shape;
  const problem =
    model.outputs.length !== 1 || out?.length !== 2 || out[1] !== spec.classes.length
      ? `the network outputs ${JSON.stringify(model.outputs.map((o) => o.shape))} but there are ${spec.classes.length} class names`
      : inp?.length !== 4 || inp[1] !== spec.inputSize || inp[2] !== spec.inputSize || inp[3] !== 3
        ? `the network takes inputs ${JSON.stringify(inp)} but the preprocessing crops ${spec.inputSize}×${spec.inputSize} RGB`
        : null;
  if (problem) {
    model.dispose();
    throw new Error(`The model in ${from} cannot classify: ${problem}.`);
  }
  return { model, spec };
}

/** A key that changes when the weights at a location change (a run writes a new checkpoint each epoch). */
export function locationVersion(location: ModelLocation): string {
  const file = location.kind === 'run' ? path.join(checkpointDir(location.runDir), 'checkpoint.json') : path.join(location.dir, 'model.json');
  let mtime = 0;
  try {
    mtime = fs.statSync(file).mtimeMs;
  } catch {
    // Missing: loadClassifier reports it.
  }
  return `${JSON.stringify(location)}@${mtime}`;
}
