import type { ClassifiedImage, ClassifyError, ClassifyJob } from '../api/classify.js';
import { csvField } from './csv-field.js';

export { csvField };

/** The CSV header of classification results. */
export const CSV_HEADER = 'path,top1,confidence,top5,error';

/** A label inside the top-k field: `\` and `|` escaped with `\`, so splitting at unescaped `|` and the last `:` is exact. */
export function topkLabel(label: string): string {
  return label.replace(/[\\|]/g, (c) => `\\${c}`);
}

/**
 * One CSV row: path, top-1 label, its probability, the top-k as `label:probability` joined by `|` (labels escaped
 * by topkLabel), and an empty error. Text fields go through csvField (quoted, formulas neutralised).
 */
export function csvRow(item: ClassifiedImage): string {
  const first = item.predictions[0];
  const topk = item.predictions.map((p) => `${topkLabel(p.label)}:${p.probability.toFixed(6)}`).join('|');
  return [csvField(item.path), csvField(first?.label ?? ''), first ? first.probability.toFixed(6) : '', csvField(topk), ''].join(',');
}

/** The CSV row of a file that could not be classified: only its path and the reason. */
export function csvErrorRow(error: ClassifyError): string {
  return [csvField(error.path), '', '', '', csvField(error.reason)].join(',');
}

/** A job's results as a CSV document (classified files first, then the files that failed). */
export function resultsCsv(job: Pick<ClassifyJob, 'results' | 'errors'>): string {
  return [CSV_HEADER, ...job.results.map(csvRow), ...job.errors.map(csvErrorRow)].join('\n') + '\n';
}

/** The `--json` line shape of one image: `{path, predictions}` or `{path, error}`. */
export function jsonLine(entry: ClassifiedImage | ClassifyError): string {
  return JSON.stringify('predictions' in entry ? { path: entry.path, predictions: entry.predictions } : { path: entry.path, error: entry.reason });
}

/** A job's results as one JSON document: how it ran, then every result and error. */
export function resultsJson(job: ClassifyJob): string {
  const { jobId: _id, status, classes, tenCrop, topK, backend, timing, results, errors } = job;
  return JSON.stringify({ status, classes, tenCrop, topK, backend, timing, results, errors }, null, 1) + '\n';
}
