import { z } from 'zod';
import { method } from './schema.js';

/** Pretrained networks the app can download. */
export const PretrainedName = z.enum(['imagenet-alexnet']);
export type PretrainedName = z.infer<typeof PretrainedName>;

/** A download of pretrained weights as it stands. */
export const PretrainedFetch = z.object({
  model: PretrainedName,
  state: z.enum(['idle', 'downloading', 'importing', 'done', 'failed', 'cancelled']),
  url: z.string(),
  received: z.number().int().nonnegative(),
  total: z.number().int().nonnegative().nullable(),
  /** What went wrong (failed, cancelled), in one or two sentences. */
  message: z.string().nullable(),
  /** The imported model, once done. */
  modelId: z.number().int().positive().nullable(),
});
export type PretrainedFetch = z.infer<typeof PretrainedFetch>;

const Which = z.object({ model: PretrainedName.default('imagenet-alexnet') });

export const pretrainedMethods = {
  'models.fetch': method(
    "Download pretrained weights (torchvision's ImageNet AlexNet), check their SHA-256 and import them as a model; resumes a broken download. Answers at once; progress comes as models.fetchProgress.",
    Which,
    PretrainedFetch,
  ),
  'models.fetchStatus': method('Where the download of pretrained weights stands.', Which, PretrainedFetch),
  'models.fetchCancel': method('Stop the download of pretrained weights; what arrived is kept for a resume.', Which, PretrainedFetch),
};

export const pretrainedEvents = {
  'models.fetchProgress': PretrainedFetch,
};
