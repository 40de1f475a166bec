// Names of the tfjs kernels the project adds: the training code runs them by name, the wasm kernels register them.

/** One fused paper-SGD step per weight, [v', w'] from {v, g, w} (momentum, weight decay, update); backends that have it (wasm) register it, train/sgd.ts uses it where present. */
export const PAPER_SGD_KERNEL = 'PaperSgdUpdate';
