import { z } from 'zod';
import { method } from './schema.js';

const Id = z.number().int().positive();
const Count = z.number().int().nonnegative();
const Probability = z.number().min(0).max(1);
const Label = z.number().int().nonnegative();
const Split = z.enum(['train', 'val', 'test']);
const Page = { offset: Count.default(0), limit: z.number().int().min(1).max(500).default(100) };
/** Most confident first (the default, as in the paper's Fig. 4) or least confident first. */
const Order = z.enum(['mostConfident', 'leastConfident']).default('mostConfident');

/** URLs of the images results render, served by every host under /media/. */
export const resultsMediaUrl = {
  filters: (runId: number): string => `/media/filters/${runId}.png`,
  activations: (runId: number, imageId: number, layer: string): string => `/media/activations/${runId}/${imageId}/${encodeURIComponent(layer)}.png`,
  gradcam: (runId: number, imageId: number, name: string): string => `/media/gradcam/${runId}/${imageId}/${encodeURIComponent(name)}.png`,
};

/** One of an image's five most probable classes under a run. */
export const ScoredClass = z.object({ label: Label, className: z.string(), probability: Probability });
export type ScoredClass = z.infer<typeof ScoredClass>;

/**
 * One image as a results gallery shows it: the library's view (file, current class, excluded; what
 * `images.update` edits) and the run's prediction (true label frozen in the run's snapshot, top-5).
 */
export const ResultImage = z.object({
  id: Id,
  /** The source file's name; `image <id>` when the image has left the library. */
  fileName: z.string(),
  /** `/media/thumb/<id>`. */
  thumbnail: z.string(),
  /** The image's class in the library now (differs from trueClass after a relabel); null when it left the library. */
  classId: Id.nullable(),
  className: z.string().nullable(),
  datasetId: Id.nullable(),
  excluded: z.boolean(),
  split: Split,
  /** The label the run trained/evaluated with (index into the run's classes) and its name. */
  trueLabel: Label,
  trueClass: z.string(),
  predictedLabel: Label,
  predictedClass: z.string(),
  /** Probability of the predicted class. */
  confidence: Probability,
  correct: z.boolean(),
  correctTop5: z.boolean(),
  top5: z.array(ScoredClass),
});
export type ResultImage = z.infer<typeof ResultImage>;

/** A page of result images and how many match in all. */
export const ResultPage = z.object({ total: Count, items: z.array(ResultImage) });

/** What was computed for one (run, split): stored predictions and fc7 features. */
export const PredictionSet = z.object({
  runId: Id,
  split: Split,
  tenCrop: z.boolean(),
  images: Count,
  loss: z.number(),
  top1Error: z.number(),
  top5Error: z.number(),
  /** Width of the stored fc7 (last hidden layer) features. */
  featureDim: Count,
  /** The checkpoint epoch the predictions came from. */
  epoch: Count,
  backend: z.string(),
  computedAt: z.number(),
});
export type PredictionSet = z.infer<typeof PredictionSet>;

/** Per-class metrics of a split. */
export const ClassResult = z.object({
  label: Label,
  class: z.string(),
  precision: z.number(),
  recall: z.number(),
  f1: z.number(),
  /** True images of the class in the split. */
  support: Count,
  /** Share of the class's images whose top-1 (top-5) prediction misses it; null without support. */
  top1Error: z.number().nullable(),
  top5Error: z.number().nullable(),
});

/** The evaluation of a run on a split, computed from its stored predictions. */
export const ResultSummary = PredictionSet.extend({
  classes: z.array(z.string()),
  perClass: z.array(ClassResult),
  /** Rows: true label, columns: predicted label; counts. */
  confusion: z.array(z.array(Count)),
  /** The same, each row divided by its support (rows without support are zeros). */
  confusionNormalized: z.array(z.array(z.number())),
});
export type ResultSummary = z.infer<typeof ResultSummary>;

const RunSplit = { runId: Id, split: Split.default('val') };

/** One training image near a query image in fc7 space. */
export const Neighbour = z.object({
  id: Id,
  fileName: z.string(),
  thumbnail: z.string(),
  classId: Id.nullable(),
  className: z.string().nullable(),
  /** The label in the run's snapshot and its name. */
  trueLabel: Label,
  trueClass: z.string(),
  /** Euclidean distance between the two fc7 feature vectors. */
  distance: z.number().nonnegative(),
});
export type Neighbour = z.infer<typeof Neighbour>;

/** A Grad-CAM heat map drawn over an image (a PNG under /media/), and what it explains. */
export const GradCamPicture = z.object({
  url: z.string(),
  layer: z.string(),
  /** The network's convolution layers in order: the layers one can ask for. */
  convLayers: z.array(z.string()),
  /** The top-1 class of the image (centre crop) and its probability. */
  label: z.string(),
  probability: Probability,
  /** The class the heat map explains, and its probability. */
  className: z.string(),
  classProbability: Probability,
  width: Count,
  height: Count,
});
export type GradCamPicture = z.infer<typeof GradCamPicture>;

/** Which of two runs gets an image right. */
export const CompareWhich = z.enum(['aRightBWrong', 'aWrongBRight']);

export const resultMethods = {
  'results.sets': method(
    'Which splits of a run have stored predictions and features, and how they were computed (empty: call runs.predict).',
    z.object({ runId: Id }),
    z.array(PredictionSet),
  ),
  'results.summary': method(
    'Top-1/top-5 error, per-class precision/recall/F1/support/top-1/top-5 error and the confusion matrix (counts and row-normalised) of a run on a split.',
    z.object(RunSplit),
    ResultSummary,
  ),
  'results.cell': method(
    'The images of one confusion-matrix cell (true label × predicted label), most confident first.',
    z.object({ ...RunSplit, trueLabel: Label, predictedLabel: Label, order: Order, ...Page }),
    ResultPage,
  ),
  'results.mistakes': method(
    'Misclassified images (top-1 wrong) with their true label and top-5, most confident first; optionally of one true or predicted label.',
    z.object({ ...RunSplit, trueLabel: Label.optional(), predictedLabel: Label.optional(), order: Order, ...Page }),
    ResultPage,
  ),
  'results.image': method(
    "One image under a run: its split, true label and top-5 predictions (null when that split has no predictions yet).",
    z.object({ runId: Id, imageId: Id }),
    z.object({ split: Split, trueLabel: Label, trueClass: z.string(), prediction: ResultImage.nullable() }),
  ),
  'results.neighbours': method(
    "The k training images closest to an image in the run's fc7 feature space (Euclidean), nearest first.",
    z.object({ runId: Id, imageId: Id, k: z.number().int().min(1).max(100).default(8) }),
    z.object({ featureDim: Count, searched: Count, items: z.array(Neighbour) }),
  ),
  'results.filters': method(
    "The run's learned first-layer kernels as one colour grid PNG (the paper's Fig. 3), each kernel scaled to its own range.",
    z.object({ runId: Id }),
    z.object({
      url: z.string(),
      layer: z.string(),
      /** [kernelHeight, kernelWidth, inputChannels, filters]. */
      shape: z.array(Count).length(4),
      columns: Count,
      rows: Count,
      /** Pixels per kernel cell (kernel side × scale) and the gap between cells. */
      cell: Count,
      gap: Count,
      width: Count,
      height: Count,
    }),
  ),
  'results.activations': method(
    'The feature maps (activations) of one layer for one image as a grayscale grid PNG; also lists the layers one can ask for.',
    z.object({ runId: Id, imageId: Id, layer: z.string().min(1).max(100).default('conv1') }),
    z.object({
      url: z.string(),
      layer: z.string(),
      /** Layer names in network order (convolution, normalisation, pooling and fully connected layers). */
      layers: z.array(z.string()),
      /** [height, width, channels] of the layer's output ([1, 1, units] for a fully connected layer). */
      shape: z.array(Count).length(3),
      columns: Count,
      rows: Count,
      width: Count,
      height: Count,
    }),
  ),
  'results.gradcam': method(
    "Grad-CAM of one image: a heat map over it of what drove the run's score for its top-1 class (or `classLabel`) at a convolution layer (default: the last).",
    z.object({ runId: Id, imageId: Id, layer: z.string().min(1).max(100).optional(), classLabel: z.string().min(1).max(200).optional() }),
    GradCamPicture,
  ),
  'results.compare': method(
    'Images of one split that run A gets right and run B wrong (or the other way round); both runs must have evaluated the same images.',
    z.object({ runA: Id, runB: Id, split: Split.default('val'), which: CompareWhich, ...Page }),
    z.object({
      counts: z.object({ aRightBWrong: Count, aWrongBRight: Count, bothRight: Count, bothWrong: Count }),
      total: Count,
      items: z.array(z.object({ a: ResultImage, b: ResultImage })),
    }),
  ),
};
