import type { ImportFinished, ImportProgress, ImportRequest } from '../../../src/api/datasets.js';
import type { Studio } from '../../../src/studio.js';

/** Starts an import through the contract and resolves with its import.finished payload (and the progress seen). */
export async function importAndWait(studio: Studio, request: ImportRequest): Promise<ImportFinished & { progress: ImportProgress[] }> {
  const progress: ImportProgress[] = [];
  let jobId: string | null = null;
  const early: ImportFinished[] = [];
  let resolve: (f: ImportFinished) => void = () => undefined;
  const finished = new Promise<ImportFinished>((r) => (resolve = r));
  const offProgress = studio.events.on('import.progress', (p) => progress.push(p));
  const offFinished = studio.events.on('import.finished', (f) => (jobId === f.jobId ? resolve(f) : early.push(f)));
  try {
    jobId = (await studio.call('datasets.import', request)).jobId;
    const already = early.find((f) => f.jobId === jobId);
    const result = already ?? (await finished);
    return { ...result, progress: progress.filter((p) => p.jobId === jobId) };
  } finally {
    offProgress();
    offFinished();
  }
}
