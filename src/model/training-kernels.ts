// Names of the tfjs kernels model/forward.ts runs in training where the active backend registers them
// (backends/wasm-kernels does); elsewhere it runs tfjs' own ops instead.

/** The gradient through a ReLU and the bias before it, [dz, db] from {dy, y}: dz = dy·step(y), db = dz summed over every axis but the last; model/forward.ts uses it where the active backend has it (wasm). */
export const RELU_BIAS_GRAD_KERNEL = 'ReluBiasGrad';

/** LRN for training, β = 0.75: [y, ρ] from {x}, ρ = N^−1/4 kept for the gradient; attrs as LRN's. model/forward.ts uses it where the active backend has it (wasm). */
export const LRN_TRAIN_KERNEL = 'LRNTrain';
/** Its gradient: dx from {x, y, rho, dy}, no square roots or divisions (N^−β = ρ³, 1/N = ρ⁴). */
export const LRN_TRAIN_GRAD_KERNEL = 'LRNTrainGrad';
