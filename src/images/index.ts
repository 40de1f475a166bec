// Public surface of the image data path: files → packed cache → augmented batches.
export * from './augment.js';
export { assembleBatch, batchRng, epochOrder, viewsPerImage, type AssemblyConfig, type AugmentOptions } from './batch-assembly.js';
export { createBatchLoader, type BatchLoader, type BatchLoaderOptions } from './batch-loader.js';
export type { Batch, BatchSource, BatchSourceStats } from './batch-source.js';
export { computeColorStats, type ColorStats, type ColorStatsOptions } from './color-stats.js';
export { decodeSquare } from './decode.js';
export { symmetricEigen3, type Eigen3, type Matrix3, type Vector3 } from './eigen.js';
export { openPack, readPackHeader, type OpenPackOptions, type Pack } from './open-pack.js';
export { recordBytes, type PackError, type PackHeader } from './pack-format.js';
export { packImages, packSizeFor, type PackImagesOptions, type PackItem, type PackProgress, type PackResult } from './pack-images.js';
export { hashSeed, Rng, type RngState } from './prng.js';
export { siblingModule, spawnWorker } from './spawn-worker.js';
export { removeStalePartials } from './stale-partials.js';
export { makeThumbnail, type ThumbnailInfo } from './thumbnail.js';
