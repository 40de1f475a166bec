// A sparse, paged list of result rows for a virtualised grid: pages fetched on demand, old cells kept
// until new ones arrive, edits shown at once. One class serves the cell gallery, mistakes and run vs run.
import { SvelteMap } from 'svelte/reactivity';
import { errorMessage } from '../library/types';
import { pagesFor, pagesPastEnd, pagesToEvict } from '../library/virtual-grid';

/** Rows per request (the contract allows up to 500). */
export const RESULT_PAGE_SIZE = 200;
const MAX_PAGES = 60;

/** Fetches one page: `offset`, `limit` → the page's rows and the total that match. */
export type PageFetcher<T> = (offset: number, limit: number) => Promise<{ total: number; items: T[] }>;

/** Items of a query, fetched page by page as the grid scrolls. */
export class PagedList<T> {
  total = $state<number | null>(null);
  error = $state<string | null>(null);
  readonly #pages = new SvelteMap<number, { generation: number; items: T[] }>();
  readonly #inflight = new Set<string>();
  #fetcher: PageFetcher<T>;
  #generation = 1;
  #range: [number, number] = [0, 0];

  constructor(fetcher: PageFetcher<T>) {
    this.#fetcher = fetcher;
  }

  /** The item at `index`, or undefined while its page loads. */
  item(index: number): T | undefined {
    return this.#pages.get(Math.floor(index / RESULT_PAGE_SIZE))?.items[index % RESULT_PAGE_SIZE];
  }

  /** Tells the list which items are on screen; fetches the pages they need. */
  showRange(first: number, last: number): void {
    this.#range = [first, last];
    const pages = this.total === null ? [0] : pagesFor(first, last, RESULT_PAGE_SIZE);
    for (const page of pages) {
      void this.#fetch(page);
    }
  }

  /** Every loaded item (for finding one by id). */
  loaded(): T[] {
    return [...this.#pages.values()].flatMap((p) => p.items);
  }

  /** Replaces the query and starts over from the first item. */
  reset(fetcher: PageFetcher<T>): void {
    this.#fetcher = fetcher;
    this.#generation++;
    this.#pages.clear();
    this.total = null;
    this.error = null;
    this.#range = [0, 0];
    this.showRange(0, 0);
  }

  /** Re-fetches what is on screen, keeping the old cells until the new ones arrive. */
  refresh(): void {
    this.#generation++;
    this.showRange(...this.#range);
  }

  /** Rewrites loaded items in place (an edit shows before the re-fetch answers). */
  patch(change: (item: T) => T | null): void {
    for (const [key, page] of this.#pages) {
      let changed = false;
      const items = page.items.map((it) => {
        const next = change(it);
        changed ||= next !== null;
        return next ?? it;
      });
      if (changed) {
        this.#pages.set(key, { ...page, items });
      }
    }
  }

  async #fetch(page: number): Promise<void> {
    const generation = this.#generation;
    const key = `${generation}:${page}`;
    if (this.#pages.get(page)?.generation === generation || this.#inflight.has(key)) {
      return;
    }
    this.#inflight.add(key);
    try {
      const result = await this.#fetcher(page * RESULT_PAGE_SIZE, RESULT_PAGE_SIZE);
      if (generation !== this.#generation) {
        return;
      }
      this.total = result.total;
      this.error = null;
      this.#pages.set(page, { generation, items: result.items });
      for (const stale of pagesPastEnd(this.#pages.keys(), result.total, RESULT_PAGE_SIZE)) {
        this.#pages.delete(stale);
      }
      this.#evict();
    } catch (err) {
      if (generation === this.#generation) {
        this.error = errorMessage(err);
      }
    } finally {
      this.#inflight.delete(key);
    }
  }

  #evict(): void {
    for (const key of pagesToEvict(this.#pages.keys(), this.#range, RESULT_PAGE_SIZE, MAX_PAGES)) {
      this.#pages.delete(key);
    }
  }
}
