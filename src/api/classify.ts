import { z } from 'zod';
import { SkipKind } from './datasets.js';
import { GradCamPicture } from './results.js';
import { method, NoInput } from './schema.js';

const Id = z.number().int().positive();
const Count = z.number().int().nonnegative();

/**
 * Which network classifies: a run's latest checkpoint, a model imported into the library,
 * or a model folder exported by ConvNet Studio (read in place, not imported).
 */
export const ClassifierSource = z.union([
  z.object({ runId: Id }).strict(),
  z.object({ modelId: Id }).strict(),
  z.object({ modelDir: z.string().min(1) }).strict(),
]);
export type ClassifierSource = z.infer<typeof ClassifierSource>;

/** One class and its probability (softmax output, view-averaged under ten-crop). */
export const Prediction = z.object({ label: z.string(), probability: z.number() });
export type Prediction = z.infer<typeof Prediction>;

/** The classification of one image file: its top-k classes, most probable first. */
export const ClassifiedImage = z.object({ path: z.string(), predictions: z.array(Prediction) });
export type ClassifiedImage = z.infer<typeof ClassifiedImage>;

/** A file that could not be classified, and why (the importer's kinds and wording). */
export const ClassifyError = z.object({ path: z.string(), kind: SkipKind, reason: z.string() });
export type ClassifyError = z.infer<typeof ClassifyError>;

/** Where the time of a job went; `msPerImage` is what the Classify view shows next to the ten-crop switch. */
export const ClassifyTiming = z.object({
  /** Wall time from the first decode to the last result. */
  totalMs: z.number(),
  /** Time spent decoding and resizing files (overlaps prediction). */
  decodeMs: z.number(),
  /** Time spent in the network. */
  predictMs: z.number(),
  /** totalMs / classified images (0 when none). */
  msPerImage: z.number(),
  /** Network inputs evaluated: images × views (10 per image under ten-crop). */
  views: Count,
});
export type ClassifyTiming = z.infer<typeof ClassifyTiming>;

export const ClassifyStatus = z.enum(['running', 'completed', 'cancelled', 'failed']);

/** A whole classification job: everything `classify.finished` carries, plus how it ran. */
export const ClassifyJob = z.object({
  jobId: z.string(),
  status: ClassifyStatus,
  /** Files found (explicit files plus image files inside folders). */
  total: Count,
  done: Count,
  failed: Count,
  tenCrop: z.boolean(),
  topK: z.number().int(),
  classes: z.array(z.string()),
  backend: z.string().nullable(),
  /** In input order (files in the order given, folders walked in sorted order). */
  results: z.array(ClassifiedImage),
  errors: z.array(ClassifyError),
  timing: ClassifyTiming.nullable(),
  /** Why the job failed (model could not be loaded, …); null otherwise. */
  error: z.string().nullable(),
});
export type ClassifyJob = z.infer<typeof ClassifyJob>;

/** One model imported into the library. */
export const ModelSummary = z.object({
  id: Id,
  name: z.string(),
  arch: z.string().nullable(),
  classes: z.array(z.string()),
  inputSize: z.number().int(),
  /** The folder it was imported from. */
  sourceDir: z.string(),
  /** Its folder inside the library (`models/<id>`). */
  dir: z.string(),
  /** The run it was exported from, on the machine that trained it. */
  sourceRunId: z.number().int().nullable(),
  importedAt: z.number(),
  sizeBytes: Count,
});
export type ModelSummary = z.infer<typeof ModelSummary>;

/** Agreement of the exported folder, reloaded in a fresh process, with the app's own predictions. */
export const ExportParity = z.object({
  /** Held-out images compared (up to 200 of the run's test split; val or train when test is empty). */
  images: Count,
  split: z.enum(['train', 'val', 'test']).nullable(),
  /** Share of images whose top-1 class is equal in both; null when no image could be compared. */
  top1Agreement: z.number().nullable(),
  /** Largest |p_app − p_export| over every image and class; null when no image could be compared. */
  maxProbDiff: z.number().nullable(),
  /** Backend of the fresh process (plain tfjs: cpu, or wasm when installed). */
  backend: z.string().nullable(),
  /** Why no comparison was possible, or what was left out. */
  note: z.string().nullable(),
});
export type ExportParity = z.infer<typeof ExportParity>;

const TopK = z.number().int().min(1).max(1000).default(5);

export const classifyMethods = {
  'classify.files': method(
    'Classify image files and folders (absolute paths) with a run or model; returns a job id at once and streams classify.progress, classify.result and classify.finished.',
    z.object({ source: ClassifierSource, paths: z.array(z.string().min(1)).min(1).max(100_000), topK: TopK, tenCrop: z.boolean().default(false) }),
    z.object({ jobId: z.string(), total: Count }),
  ),
  'classify.job': method(
    'A job as it stands; with wait=true, resolves when it has finished (the request/response form for a few files).',
    z.object({ jobId: z.string(), wait: z.boolean().default(false) }),
    ClassifyJob,
  ),
  'classify.cancel': method('Stop a classification job after the current batch; results so far stay.', z.object({ jobId: z.string() }), ClassifyJob),
  'classify.cost': method(
    'Measured network time per image with a centre crop and with ten-crop averaging, for the Classify view to show before a job.',
    z.object({ source: ClassifierSource }),
    z.object({ centerMsPerImage: z.number(), tenCropMsPerImage: z.number(), backend: z.string(), batchSize: z.number().int() }),
  ),
  'classify.gradcam': method(
    "Grad-CAM of one classified image, addressed by its job and position in the job's results (never by a path): a heat map over the file the job read, of what drove the job's model to its top-1 class (or `classLabel`) at a convolution layer (default: the last).",
    z.object({
      jobId: z.string().min(1).max(100),
      index: z.number().int().nonnegative().max(2_147_483_647),
      layer: z.string().min(1).max(100).optional(),
      classLabel: z.string().min(1).max(200).optional(),
    }),
    GradCamPicture,
  ),
  'classify.exportResults': method(
    "A finished job's results as CSV (path, top1, confidence, top5) or JSON; written to outFile when given, else returned as text for the UI to save.",
    z.object({ jobId: z.string(), format: z.enum(['csv', 'json']), outFile: z.string().min(1).optional() }),
    z.object({ format: z.enum(['csv', 'json']), rows: Count, file: z.string().nullable(), text: z.string().nullable() }),
  ),
  'classify.export': method(
    "Export a run's model as a folder (TF.js layers model, labels, preprocessing, custom layers, README) and check it in a fresh process.",
    z.object({ runId: Id, outDir: z.string().min(1) }),
    z.object({ dir: z.string(), files: z.array(z.string()), parity: ExportParity }),
  ),
  'classify.exportOnnx': method(
    "Export a run's model as one ONNX file (opset 13; labels and preprocessing in its metadata) and check it with ONNX Runtime on held-out images.",
    z.object({ runId: Id, outFile: z.string().min(1) }),
    z.object({ file: z.string(), bytes: Count, opset: z.number().int(), parity: ExportParity }),
  ),
  'models.list': method('Models imported into the library, newest first.', NoInput, z.array(ModelSummary)),
  'models.import': method('Copy a model folder exported by ConvNet Studio into the library, or convert a torchvision AlexNet .pth or an ONNX AlexNet file into one.', z.object({ dir: z.string().min(1), name: z.string().trim().min(1).max(200).optional() }), ModelSummary),
  'models.delete': method('Remove an imported model and its folder from the library.', z.object({ id: Id }), z.object({ deleted: z.boolean() })),
};

export const classifyEvents = {
  'classify.progress': z.object({ jobId: z.string(), done: Count, total: Count, failed: Count }),
  /** New results and errors of one batch, in input order. */
  'classify.result': z.object({ jobId: z.string(), items: z.array(ClassifiedImage), errors: z.array(ClassifyError) }),
  'classify.finished': ClassifyJob,
};
