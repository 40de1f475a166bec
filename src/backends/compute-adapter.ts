// What a compute page (WebGPU or WebGL in a browser renderer) trains on, as the backend that opens it names it.

/** Backends a compute page can train on. */
export type ComputeBackend = 'webgpu' | 'webgl';

/** The GPU a compute page found, as WebGPU's GPUAdapterInfo (or WebGL's renderer string) names it. */
export interface AdapterDescription {
  backend: ComputeBackend;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for a software adapter (SwiftShader, WARP, llvmpipe): numbers from it say nothing about a real GPU. */
  software: boolean;
}
