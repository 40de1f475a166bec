import type { TrainConfig } from '../api/runs.js';
import { ApiError } from '../api/errors.js';
import { isComputeBackend } from '../backends/index.js';

/**
 * Fine-tuning's defaults, beside the paper's from-scratch recipe: fewer epochs (the features are learned
 * already), and the copied layers at a tenth of the learning rate so that the fresh last layer's early, large
 * gradients do not wreck them. The last layer learns at the full rate (0.01).
 */
export const FINE_TUNE_DEFAULTS = { epochs: 30, pretrainedLrMult: 0.1 } as const;

/** Refuses the fine-tuning settings a run cannot honour, with what to do instead. */
export function checkFineTuneBackend(config: TrainConfig): void {
  if (!config.initFrom && config.freeze !== 'none') {
    throw new ApiError('bad_request', `freeze '${config.freeze}' needs a parent to copy the frozen layers from: set initFrom (--init-from run:ID or model:ID).`);
  }
  if (config.initFrom && isComputeBackend(config.backend)) {
    throw new ApiError('unavailable', `A run started from a parent trains in Node for now, not on ${config.backend}: choose auto, tensorflow, wasm or cpu.`);
  }
}
