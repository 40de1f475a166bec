// The state of a run's training that a checkpoint saves and a resumed run starts from: where the loop
// stands, the learning-rate schedule and the optimizer's momentum. The loop, schedule and SGD use these types.

/** What a schedule remembers between epochs (stored in checkpoints). */
export interface ScheduleState {
  lr: number;
  bestError: number | null;
  epochsSinceBest: number;
}

/** Where a run stands: enough to continue it exactly (stored in every checkpoint). */
export interface LoopPosition {
  /** Epochs fully done. */
  epoch: number;
  /** Batches done within the current epoch (non-zero only for a checkpoint taken mid-epoch). */
  batch: number;
  /** Training loss summed over the images of the current epoch so far, and their count. */
  lossSum: number;
  images: number;
  /** Seconds of training so far, over all sessions of the run. */
  seconds: number;
  schedule: ScheduleState;
  best: { top1: number | null; top5: number | null };
}

/** Serialisable optimizer state: one momentum tensor's values per weight, by the weight's stable key. */
export interface SgdState {
  step: number;
  momentum: Record<string, { shape: number[]; values: Float32Array }>;
}
