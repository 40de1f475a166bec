// Node side of compute page checkpoints: writes a ComputeCheckpoint in checkpoint.ts' format (same
// files, same atomic swap), and reads a run's checkpoint back as one, so runs move between backends.
import type * as tf from '@tensorflow/tfjs';
import { loadCheckpoint, saveCheckpoint, type CheckpointMeta } from '../../../runs/checkpoint.js';
import { artifactsOf, sgdStateOf, toComputeCheckpoint } from '../artifacts.js';
import type { ComputeCheckpoint } from '../protocol.js';

/** Writes a checkpoint that came from a compute page into `runDir/checkpoint`. */
export async function saveComputeCheckpoint(runDir: string, cp: ComputeCheckpoint, meta: Omit<CheckpointMeta, 'optimizer' | 'version' | 'savedAt' | 'position'>): Promise<void> {
  // saveCheckpoint only asks the model to save itself through a handler: answer with the page's artifacts.
  const savedModel = { save: (handler: tf.io.IOHandler) => handler.save!(artifactsOf(cp)) } as unknown as tf.LayersModel;
  await saveCheckpoint(runDir, savedModel, sgdStateOf(cp), { ...meta, position: cp.position });
}

/** A run's checkpoint as a ComputeCheckpoint for a compute page, or null when it has none. */
export function loadComputeCheckpoint(runDir: string): { checkpoint: ComputeCheckpoint; meta: CheckpointMeta } | null {
  const loaded = loadCheckpoint(runDir);
  return loaded ? { checkpoint: toComputeCheckpoint(loaded.artifacts, loaded.sgd, loaded.meta.position), meta: loaded.meta } : null;
}
