// Pure helpers of the Classify view: file names, probabilities, parity verdicts, run labels.
import { formatError } from '../runs/format';
import type { ExportParity, RunSummary } from './types';

/** The last segment of a path, with / or \ separators. */
export function fileName(p: string): string {
  const parts = p.split(/[\\/]/).filter((s) => s !== '');
  return parts[parts.length - 1] ?? p;
}

/** The folder part of a path ("" for a bare name). */
export function dirName(p: string): string {
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return i > 0 ? p.slice(0, i) : '';
}

/** A probability (0–1) as a percentage: "97.3%", "<0.1%" for tiny non-zero values. */
export function formatProb(p: number): string {
  if (!Number.isFinite(p)) {
    return '—';
  }
  if (p > 0 && p < 0.001) {
    return '<0.1%';
  }
  return `${(p * 100).toFixed(1)}%`;
}

/** Milliseconds for a timing line: "3.2 ms", "41 ms", "1.4 s". */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) {
    return '—';
  }
  if (ms >= 1000) {
    return `${(ms / 1000).toFixed(1)} s`;
  }
  return ms >= 10 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`;
}

/** A probability difference in scientific-ish notation: "0", "3.1e-7", "0.012". */
export function formatDelta(d: number | null): string {
  if (d === null || !Number.isFinite(d)) {
    return '—';
  }
  if (d === 0) {
    return '0';
  }
  return d < 0.001 ? d.toExponential(1) : d.toFixed(4);
}

/** A share of agreement that never rounds up to 100%: "100%" only when all agree, else "99.5%" (floored). */
export function formatAgreement(a: number | null): string {
  if (a === null || !Number.isFinite(a)) {
    return '—';
  }
  return a >= 1 ? '100%' : `${(Math.floor(a * 1000) / 10).toFixed(1)}%`;
}

/** How an export's parity reads: `agree` when every top-1 matches and probabilities differ < 1e-3. */
export function parityVerdict(p: ExportParity): 'agree' | 'differ' | 'unchecked' {
  if (p.images === 0 || p.top1Agreement === null) {
    return 'unchecked';
  }
  return p.top1Agreement === 1 && (p.maxProbDiff ?? 0) < 1e-3 ? 'agree' : 'differ';
}

/** True when a run has a checkpoint to classify with and no worker holds it. */
export function isClassifiableRun(run: RunSummary): boolean {
  return run.epochsDone > 0 && !['queued', 'running', 'paused'].includes(run.status);
}

/** A run as one line: "Run 3 · shapes · alexnet-small · top-1 error 12.5%". */
export function runLabel(run: RunSummary): string {
  const err = run.bestValTop1Error === null ? 'no validation error' : `top-1 error ${formatError(run.bestValTop1Error)}`;
  return `Run ${run.id} · ${run.datasetName ?? `dataset ${run.datasetId}`} · ${run.arch} · ${err}`;
}

/** A default folder name for a run's exported model: "shapes-run3-model". */
export function exportFolderName(run: RunSummary): string {
  const dataset = (run.datasetName ?? 'model').replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'model';
  return `${dataset}-run${run.id}-model`;
}

/** Joins a folder and a name with the folder's own separator (\ on Windows paths). */
export function joinPath(dir: string, name: string): string {
  const sep = dir.includes('\\') && !dir.includes('/') ? '\\' : '/';
  return dir.endsWith(sep) ? dir + name : dir + sep + name;
}
