// The Classify view's types, straight from the engine's contract (src/api/classify.ts is the truth).
import type { Output } from '../../../../src/api/contract';
export type {
  ClassifiedImage,
  ClassifierSource,
  ClassifyError,
  ClassifyJob,
  ClassifyTiming,
  ExportParity,
  ModelSummary,
  Prediction,
} from '../../../../src/api/classify';
export type { RunSummary } from '../../../../src/api/runs';

/** What `classify.cost` answers: network time per image, centre crop and ten-crop. */
export type ClassifyCost = Output<'classify.cost'>;
/** What `classify.export` answers: the folder, its files and the parity check. */
export type ModelExport = Output<'classify.export'>;
/** Result formats `classify.exportResults` writes. */
export type ResultsFormat = 'csv' | 'json';
