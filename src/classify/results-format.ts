import type { ClassifiedImage, ClassifyError, ClassifyJob } from '../api/classify.js';

/** The CSV header of classification results. */
export const CSV_HEADER = 'path,top1,confidence,top5,error';

/** Quotes a CSV field when it holds a comma, quote or line break (RFC 4180). */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One CSV row: path, top-1 label, its probability, the top-k as `label:probability` joined by `|`, and an empty error. */
export function csvRow(item: ClassifiedImage): string {
  const first = item.predictions[0];
  const topk = item.predictions.map((p) => `${p.label}:${p.probability.toFixed(6)}`).join('|');
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
