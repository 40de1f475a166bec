// The runs table's view state: filters, sort column, and the runs ticked for an overlaid comparison.
import { SvelteSet } from 'svelte/reactivity';
import type { SortState } from '../results/sort';
import { NO_FILTERS, type RunFilters, type RunSortKey } from './runs-filter';

/** What the runs table shows and which rows are ticked. */
export class RunsTableState {
  filters = $state<RunFilters>({ ...NO_FILTERS });
  sort = $state<SortState<RunSortKey>>({ key: 'id', dir: 'desc' });
  /** Runs ticked for the overlaid curves. */
  readonly compare = new SvelteSet<number>();

  /** Ticks or unticks a run for comparison. */
  toggleCompare(id: number): void {
    if (this.compare.has(id)) {
      this.compare.delete(id);
    } else {
      this.compare.add(id);
    }
  }

  /** Clears every filter. */
  clearFilters(): void {
    this.filters = { ...NO_FILTERS };
  }

  /** True when any filter is set. */
  get filtered(): boolean {
    const f = this.filters;
    return !!(f.dataset || f.arch || f.status || f.text.trim());
  }
}

/** The one runs-table state of the app (kept across view switches). */
export const runsTable = new RunsTableState();
