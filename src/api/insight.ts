import { z } from 'zod';
import { ResultImage } from './results.js';
import { TrainConfig } from './runs.js';
import { method } from './schema.js';

const Id = z.number().int().positive();
const Count = z.number().int().nonnegative();

/** How a run's suspected-label scan was made. */
export const SuspectScan = z.object({
  runId: Id,
  folds: Count,
  /** Epochs each fold's fresh network trained. */
  epochs: Count,
  /** Training images scored by a network that did not train on them. */
  images: Count,
  /** Of them, those whose out-of-fold top-1 is not their label (the suspects). */
  disagreements: Count,
  seconds: z.number(),
  backend: z.string(),
  computedAt: z.number(),
});

/** A scan in progress. */
export const SuspectJob = z.object({
  runId: Id,
  status: z.enum(['running', 'completed', 'stopped', 'failed']),
  fold: Count,
  folds: Count,
  phase: z.enum(['preparing', 'training', 'scoring']),
  epoch: Count,
  epochs: Count,
  batch: Count,
  batches: Count,
  message: z.string(),
  error: z.string().nullable(),
});
export type SuspectJob = z.infer<typeof SuspectJob>;

/** A training image whose label the out-of-fold prediction disagrees with; `score` = 1 − p(given label). */
export const SuspectImage = ResultImage.extend({ score: z.number(), givenProbability: z.number(), path: z.string().nullable() });

/** One point of the learning-rate sweep. */
export const LrPoint = z.object({ lr: z.number(), loss: z.number(), smoothed: z.number() });

/** A learning-rate range test, as stored. */
export const LrFind = z.object({
  id: Id,
  datasetId: Id,
  arch: z.string(),
  suggested: z.number().nullable(),
  curve: z.array(LrPoint),
  diverged: z.boolean(),
  backend: z.string(),
  seconds: z.number(),
  createdAt: z.number(),
});

export const insightMethods = {
  'suspects.start': method(
    "Starts a suspected-label scan of a run: k fresh networks of its config, each trained briefly on all training images but one fold, score the held-out fold (out-of-fold predictions).",
    z.object({ runId: Id, folds: z.number().int().min(2).max(10).default(3), epochs: z.number().int().min(1).max(200).optional() }),
    SuspectJob,
  ),
  'suspects.stop': method('Stops a running suspected-label scan after the batch in hand; the stored scan (if any) stays.', z.object({ runId: Id }), SuspectJob.nullable()),
  'suspects.list': method(
    "A run's suspected labels from its stored scan, most suspect first, with the scan's facts and any scan in progress.",
    z.object({ runId: Id, offset: Count.default(0), limit: z.number().int().min(1).max(500).default(100) }),
    z.object({ scan: SuspectScan.nullable(), job: SuspectJob.nullable(), total: Count, items: z.array(SuspectImage) }),
  ),
  'lrfinder.run': method(
    'Learning-rate range test on a dataset: one SGD step per exponentially growing rate on an in-memory copy of the network; stores only its own record (no run).',
    z.object({
      config: TrainConfig,
      steps: z.number().int().min(10).max(1000).default(100),
      minLr: z.number().positive().max(10).default(1e-5),
      maxLr: z.number().positive().max(100).default(1),
    }),
    LrFind,
  ),
  'augment.preview': method(
    "What the network will see: a few training images of the config's dataset, each as packed and as training views made by the loader's own code (crop, mirror, PCA lighting at the config's σ), mean subtraction undone, as one PNG grid.",
    z.object({ config: TrainConfig, images: z.number().int().min(1).max(8).default(4), variants: z.number().int().min(1).max(10).default(6) }),
    z.object({
      url: z.string(),
      /** One row per image: the packed image first, then the training views. */
      rows: z.array(z.object({ imageId: Id, className: z.string() })),
      columns: Count,
      tile: Count,
      gap: Count,
      width: Count,
      height: Count,
      inputSize: Count,
      packSize: Count,
    }),
  ),
  'lrfinder.latest': method("The dataset's latest learning-rate range test, or null.", z.object({ datasetId: Id }), LrFind.nullable()),
};

export const insightEvents = {
  'suspects.progress': SuspectJob,
  'lrfinder.progress': z.object({ datasetId: Id, step: Count, steps: Count, lr: z.number(), loss: z.number().nullable(), message: z.string() }),
};
