import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '../model/index.js'; // registers LocalResponseNormalization and GroupedConv2D for deserialisation
import { loadCheckpoint, modelFromCheckpoint, checkpointDir } from '../train/checkpoint.js';
import { inspectModelFolder, readModelArtifacts } from './model-folder.js';
import type { Classifier } from './pipeline.js';
import { specFromCheckpoint } from './spec.js';

/** Where a classifier's weights are on disk: a run folder (its latest checkpoint) or an exported model folder. */
export type ModelLocation = { kind: 'run'; runDir: string } | { kind: 'folder'; dir: string };

/** Loads the network and its input rule from a run's checkpoint or a model folder. */
export async function loadClassifier(location: ModelLocation): Promise<Classifier> {
  if (location.kind === 'run') {
    const checkpoint = loadCheckpoint(location.runDir);
    if (!checkpoint) {
      throw new Error('This run has no checkpoint yet: it has not finished an epoch.');
    }
    return { model: await modelFromCheckpoint(checkpoint), spec: specFromCheckpoint(checkpoint.meta) };
  }
  const folder = inspectModelFolder(location.dir);
  const model = await tf.loadLayersModel(tf.io.fromMemory(readModelArtifacts(location.dir, folder)));
  return { model, spec: folder.spec };
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
