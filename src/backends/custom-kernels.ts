// Names of the tfjs kernels the project adds: the training code runs them by name, the wasm kernels register them.

/** One fused paper-SGD step per weight, [v', w'] from {v, g, w} (momentum, weight decay, update); backends that have it (wasm) register it, train/sgd.ts uses it where present. */
export const PAPER_SGD_KERNEL = 'PaperSgdUpdate';

// The kernels the forward pass calls in training are named where it lives (model/training-kernels.ts, which the
// model may import without depending on the backends); the same names, for the backends that register them.
export { LRN_TRAIN_GRAD_KERNEL, LRN_TRAIN_KERNEL, RELU_BIAS_GRAD_KERNEL } from '../model/training-kernels.js';
