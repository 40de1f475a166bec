/*
 * The trainer depends only on this file (no Node APIs), so the same training loop can consume
 * batches from a worker-thread loader in Node or over a MessagePort in a compute window.
 */

/** One batch of network input, NHWC float32. */
export interface Batch {
  /** shape[0] × shape[1] × shape[2] × shape[3] values. */
  x: Float32Array;
  /** [images × views, height, width, 3]. */
  shape: [number, number, number, number];
  /** One label per image (not per view). */
  labels: Int32Array;
  /** One image id per image (not per view). */
  ids: Int32Array;
  /** Views per image in x, consecutive per image (1, or 10 for ten-crop); absent means 1. */
  views?: number;
  /** Epoch this batch belongs to. */
  epoch?: number;
  /** Index of this batch within its epoch (for exact resume). */
  index?: number;
}

/**
 * A batch of raw pixels for a consumer that normalises them itself (a compute window): uint8 NHWC
 * views, already cropped and mirrored, and each image's lighting shift on the 0–255 scale (null
 * without PCA lighting). (x + shift − mean) / std gives exactly the float batch of the same position.
 */
export interface RawBatch extends Omit<Batch, 'x'> {
  x: Uint8Array;
  shifts: Float32Array | null;
}

/** How well a source keeps up with its consumer. */
export interface BatchSourceStats {
  /** Images the producer prepares per second of its own busy time: its capacity. */
  imagesPerSec: number;
  /** Total milliseconds callers spent waiting inside next(): above ~0 the trainer is starved. */
  waitMs: number;
  /** Batches ready and not yet taken. */
  buffered: number;
  /** Images delivered so far. */
  images: number;
  /** Batches delivered so far. */
  batches: number;
}

/** A stream of batches, one epoch at a time. */
export interface BatchSource {
  readonly batchesPerEpoch: number;
  /** Next batch of the current epoch, or null once the epoch is done. */
  next(): Promise<Batch | null>;
  /** Starts another epoch (reshuffled from seed and epoch), optionally from batch `startBatch`; drops what was left of the current one. */
  seek?(epoch: number, startBatch?: number): void;
  /** Throughput so far. */
  stats?(): BatchSourceStats;
  close(): Promise<void>;
}
