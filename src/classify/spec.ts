import type { ColorStats } from '../images/color-stats.js';
import { packSizeFor } from '../images/pack-images.js';
import type { CheckpointMeta } from '../runs/checkpoint.js';
import { inputSizeOf, normalizationFor, type InputNormalization } from '../runs/config.js';

/** Everything besides weights that classifying needs: the classes and the input rule of the network. */
export interface ClassifierSpec {
  classes: string[];
  /** Side of the square network input. */
  inputSize: number;
  /** Side images are decoded to (short side resized, then centre-cropped), as the training cache does. */
  resizeSize: number;
  norm: InputNormalization;
  arch: string | null;
  /** The run the weights come from (on the machine that trained them), when known. */
  runId: number | null;
}

/** The spec of a run's checkpoint: the same input rule its training and evaluation used. */
export function specFromCheckpoint(meta: CheckpointMeta): ClassifierSpec {
  const config = meta.config;
  const inputSize = inputSizeOf(config);
  return {
    classes: meta.classes,
    inputSize,
    resizeSize: packSizeFor(inputSize),
    norm: normalizationFor(config, meta.colorStats as ColorStats),
    arch: meta.arch,
    runId: meta.runId,
  };
}
