// Pure filtering and sorting of the runs table.
import { sortRows, type SortState } from '../results/sort';
import type { RunSummary } from './types';

/** The columns the runs table sorts by. */
export type RunSortKey = 'id' | 'dataset' | 'arch' | 'status' | 'epochs' | 'backend' | 'top1' | 'top5' | 'testTop1' | 'testTop5' | 'duration' | 'created';

/** The runs table's filters; empty strings mean "any". */
export interface RunFilters {
  dataset: string;
  arch: string;
  status: string;
  /** Matched against id, dataset, network, backend, tags and note. */
  text: string;
}

/** No filter at all. */
export const NO_FILTERS: RunFilters = { dataset: '', arch: '', status: '', text: '' };

function duration(r: RunSummary, now: number): number | null {
  return r.startedAt === null ? null : (r.finishedAt ?? now) - r.startedAt;
}

const VALUE: Record<RunSortKey, (r: RunSummary, now: number) => number | string | null> = {
  id: (r) => r.id,
  dataset: (r) => r.datasetName,
  arch: (r) => r.arch,
  status: (r) => r.status,
  epochs: (r) => r.epochsDone,
  backend: (r) => r.backend,
  top1: (r) => r.bestValTop1Error,
  top5: (r) => r.bestValTop5Error,
  testTop1: (r) => r.testTop1Error,
  testTop5: (r) => r.testTop5Error,
  duration,
  created: (r) => r.createdAt,
};

/** Runs that pass every filter. */
export function filterRuns(list: readonly RunSummary[], f: RunFilters): RunSummary[] {
  const words = f.text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  return list.filter((r) => {
    if ((f.dataset && r.datasetName !== f.dataset) || (f.arch && r.arch !== f.arch) || (f.status && r.status !== f.status)) {
      return false;
    }
    const hay = `#${r.id} ${r.datasetName ?? ''} ${r.arch} ${r.backend ?? ''} ${r.status} ${r.tags.join(' ')} ${r.note}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

/** Runs sorted by one column. */
export function sortRuns(list: readonly RunSummary[], sort: SortState<RunSortKey>, now = Date.now()): RunSummary[] {
  return sortRows(list, (r) => VALUE[sort.key](r, now), sort.dir);
}

/** The distinct values of a field, sorted (for the filter selects). */
export function distinct(list: readonly RunSummary[], pick: (r: RunSummary) => string | null): string[] {
  return [...new Set(list.map(pick).filter((v): v is string => !!v))].sort();
}

/** Tags typed as one comma-separated line → a clean list (trimmed, no empties, no duplicates). */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(',').map((t) => t.trim()).filter(Boolean))].slice(0, 50);
}
