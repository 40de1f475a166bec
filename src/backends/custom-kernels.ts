// Names of the tfjs kernels the project adds: the training code runs them by name, the wasm kernels register them.

/** One fused paper-SGD step per weight, [v', w'] from {v, g, w} (momentum, weight decay, update); backends that have it (wasm) register it, train/sgd.ts uses it where present. */
export const PAPER_SGD_KERNEL = 'PaperSgdUpdate';

/** The gradient through a ReLU and the bias before it, [dz, db] from {dy, y}: dz = dy·step(y), db = dz summed over every axis but the last; model/forward.ts uses it where the active backend has it (wasm). */
export const RELU_BIAS_GRAD_KERNEL = 'ReluBiasGrad';
