import type { ClassifiedImage, ClassifyError, ClassifyTiming } from '../api/classify.js';
import type { ExplainedFile } from './explain-files.js';
import type { ModelLocation } from './load.js';
import type { ClassifierSpec } from './spec.js';

/** A classification job for the worker: files already expanded from folders, in order. */
export interface JobRequest {
  type: 'job';
  jobId: string;
  location: ModelLocation;
  files: string[];
  topK: number;
  tenCrop: boolean;
}

/** Export a run's model into an empty folder and classify a sample with the in-app pipeline (full probabilities). */
export interface ExportRequest {
  type: 'export';
  requestId: number;
  location: ModelLocation;
  outDir: string;
  sample: string[];
}

/** Measure network time per image, centre crop and ten-crop. */
export interface CostRequest {
  type: 'cost';
  requestId: number;
  location: ModelLocation;
}

/** Grad-CAM of one file with the classifier at a location: one overlay PNG written to `out` (see explainWithClassifier). */
export interface ExplainRequest {
  type: 'explain';
  requestId: number;
  location: ModelLocation;
  file: string;
  out: string;
  layer: string | null;
  classLabel: string | null;
  maxSide: number;
}

export type ToClassifyWorker = JobRequest | ExportRequest | CostRequest | ExplainRequest | { type: 'cancel'; jobId: string };

/** What an export request answers. */
export interface ExportReply {
  files: string[];
  spec: ClassifierSpec;
  backend: string;
  /** In-app probabilities of the sample, by path; failures carry their reason. */
  sample: Array<{ path: string; probabilities: number[] } | { path: string; error: string }>;
}

/** What an explain request answers: the layer used, the layers one can ask for, and the file explained or why not. */
export interface ExplainReply {
  layer: string;
  convLayers: string[];
  item: ExplainedFile;
}

/** What a cost request answers. */
export interface CostReply {
  centerMsPerImage: number;
  tenCropMsPerImage: number;
  backend: string;
  batchSize: number;
}

export type FromClassifyWorker =
  | { type: 'started'; jobId: string; classes: string[]; backend: string }
  | { type: 'batch'; jobId: string; items: ClassifiedImage[]; errors: ClassifyError[] }
  | { type: 'finished'; jobId: string; timing: ClassifyTiming; cancelled: boolean }
  | { type: 'failed'; jobId: string; message: string }
  | { type: 'reply'; requestId: number; ok: true; result: ExportReply | CostReply | ExplainReply }
  | { type: 'reply'; requestId: number; ok: false; message: string };
