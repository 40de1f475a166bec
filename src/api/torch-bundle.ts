import { z } from 'zod';
import { RunSummary } from './runs.js';
import { method } from './schema.js';

const Id = z.number().int().positive();
const Count = z.number().int().nonnegative();

/** What `runs.exportTorch` wrote and how its own check went. */
export const TorchExport = z.object({
  dir: z.string(),
  files: z.array(z.string()),
  /** Images in the manifest (the run's frozen snapshot). */
  images: Count,
  /** Tar shards of the images (0 unless withImages). */
  shards: Count,
  referenceImages: Count,
  params: Count,
  /** `train.py --check` run right after writing, with a Python that imports torch; null when none was found (see note). */
  check: z.object({ ok: z.boolean(), line: z.string(), python: z.string(), torch: z.string() }).nullable(),
  note: z.string().nullable(),
});
export type TorchExport = z.infer<typeof TorchExport>;

/** The imported run, what the bundle reported for its last epoch, and our own evaluation of the imported weights. */
export const BundleImport = z.object({
  run: RunSummary,
  bundle: z.object({
    epochs: Count,
    valTop1Error: z.number().nullable(),
    valTop5Error: z.number().nullable(),
    valLoss: z.number().nullable(),
    trainedOn: z.string(),
  }),
  /** The app's evaluation of the imported weights on the validation split (test when there is none); null when neither has images. */
  evaluation: z.object({ split: z.enum(['val', 'test']), images: Count, top1Error: z.number(), top5Error: z.number(), loss: z.number() }).nullable(),
  /** Splits whose predictions could not be stored, with the reason. */
  warnings: z.array(z.string()),
});
export type BundleImport = z.infer<typeof BundleImport>;

export const torchBundleMethods = {
  'runs.exportTorch': method(
    "Export a run as a PyTorch DDP bundle (model.py, weights, config, manifest of its images, train.py, launch.sh, README) and run its train.py --check when a Python with torch is here.",
    z.object({ runId: Id, outDir: z.string().min(1), withImages: z.boolean().default(false) }),
    TorchExport,
  ),
  'runs.importBundle': method(
    "Add a trained PyTorch bundle's result/ as a run linked to the run it was exported from, evaluate it and store its predictions.",
    z.object({ dir: z.string().min(1) }),
    BundleImport,
  ),
};
