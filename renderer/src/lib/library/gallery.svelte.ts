// One dataset's image list as the virtualised grid sees it: filters, a sparse cache of pages fetched
// on demand, the multi-selection, and edits through `images.update`.
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import { call } from '../api';
import { pagesFor, pagesPastEnd, pagesToEvict } from './virtual-grid';
import { errorMessage, type ImageChange, type ImageListItem, type SplitName, type StatusFilter } from './types';

/** Images per `images.list` request. */
export const PAGE_SIZE = 200;
/** Pages kept in memory; the farthest from view are dropped beyond this. */
const MAX_PAGES = 60;
const SEARCH_DEBOUNCE_MS = 250;

/** The gallery's filters. */
export interface GalleryFilters {
  classId: number | null;
  split: SplitName | null;
  status: StatusFilter;
  search: string;
}

interface Page {
  generation: number;
  items: ImageListItem[];
  /** The server's cursor for the page after this one (a seek instead of a skip over every earlier image). */
  next: string | undefined;
}

/** Paged, filtered images of one dataset, plus the selection. */
export class GalleryState {
  readonly datasetId: number;
  filters = $state<GalleryFilters>({ classId: null, split: null, status: 'ok', search: '' });
  /** What the search field shows now (the filter follows after a pause in typing). */
  searchText = $state('');
  /** Images matching the filters; null until the first page arrives. */
  total = $state<number | null>(null);
  error = $state<string | null>(null);
  readonly selection = new SvelteSet<number>();
  /** Index of the last plainly clicked cell (the start of a shift-click range). */
  anchor = $state<number | null>(null);

  readonly #pages = new SvelteMap<number, Page>();
  readonly #inflight = new Set<string>();
  #generation = 1;
  #range: [number, number] = [0, 0];
  #searchTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(datasetId: number) {
    this.datasetId = datasetId;
  }

  /** The item at `index`, or undefined while its page loads. */
  item(index: number): ImageListItem | undefined {
    return this.#pages.get(Math.floor(index / PAGE_SIZE))?.items[index % PAGE_SIZE];
  }

  /** Tells the state which items are on screen; fetches the pages they need. */
  showRange(first: number, last: number): void {
    this.#range = [first, last];
    // Before the first answer the total is unknown: ask for page 0, which brings it.
    const pages = this.total === null ? [0] : pagesFor(first, last, PAGE_SIZE);
    for (const page of pages) {
      void this.#fetch(page);
    }
  }

  /** Loads the page holding `index` (for the large view's arrows) and returns its item. */
  async ensure(index: number): Promise<ImageListItem | undefined> {
    await this.#fetch(Math.floor(index / PAGE_SIZE));
    return this.item(index);
  }

  /** Changes one filter and starts over from the first image. */
  setFilter<K extends keyof GalleryFilters>(key: K, value: GalleryFilters[K]): void {
    this.filters[key] = value;
    this.#restart();
  }

  /** Updates the search text; the filter follows after a short pause in typing. */
  setSearch(text: string): void {
    this.searchText = text;
    clearTimeout(this.#searchTimer);
    this.#searchTimer = setTimeout(() => this.setFilter('search', text.trim()), SEARCH_DEBOUNCE_MS);
  }

  /** Re-fetches what is on screen, keeping the old cells until the new ones arrive (no flicker). */
  refresh(): void {
    this.#generation++;
    this.showRange(...this.#range);
  }

  /** Plain click toggles nothing; ctrl/cmd toggles one; shift adds the range from the anchor. */
  select(index: number, mode: 'toggle' | 'range'): void {
    const item = this.item(index);
    if (!item) {
      return;
    }
    if (mode === 'range' && this.anchor !== null) {
      const [a, b] = this.anchor < index ? [this.anchor, index] : [index, this.anchor];
      for (let i = a; i <= b; i++) {
        const it = this.item(i);
        if (it) {
          this.selection.add(it.id);
        }
      }
    } else if (this.selection.has(item.id)) {
      this.selection.delete(item.id);
    } else {
      this.selection.add(item.id);
    }
    this.anchor = index;
  }

  /** Empties the selection. */
  clearSelection(): void {
    this.selection.clear();
    this.anchor = null;
  }

  /** Applies a change to images, shows it at once in the cached pages, then re-fetches. */
  async update(ids: number[], change: ImageChange, className?: string): Promise<number> {
    const updated = await call('images.update', { ids, ...change });
    const set = new Set(ids);
    for (const [key, page] of this.#pages) {
      if (page.items.some((it) => set.has(it.id))) {
        const items = page.items.map((it) =>
          set.has(it.id)
            ? {
                ...it,
                ...(change.classId !== undefined ? { classId: change.classId, className: className ?? it.className } : {}),
                ...(change.split !== undefined ? { split: change.split } : {}),
                ...(change.excluded !== undefined ? { excluded: change.excluded } : {}),
              }
            : it,
        );
        this.#pages.set(key, { ...page, items });
      }
    }
    this.refresh();
    return updated.updated;
  }

  #restart(): void {
    this.#generation++;
    this.#pages.clear();
    this.total = null;
    this.error = null;
    this.clearSelection();
    this.#range = [0, 0];
    this.showRange(0, 0);
  }

  async #fetch(page: number): Promise<void> {
    const generation = this.#generation;
    const key = `${generation}:${page}`;
    if (this.#pages.get(page)?.generation === generation || this.#inflight.has(key)) {
      return;
    }
    this.#inflight.add(key);
    const f = this.filters;
    // Scrolling on from a page of this generation: continue from its last key (the server checks it is current).
    const before = page > 0 ? this.#pages.get(page - 1) : undefined;
    const after = before?.generation === generation && before.items.length === PAGE_SIZE ? before.next : undefined;
    try {
      const result = await call('images.list', {
        datasetId: this.datasetId,
        classId: f.classId ?? undefined,
        split: f.split ?? undefined,
        status: f.status,
        search: f.search || undefined,
        offset: page * PAGE_SIZE,
        limit: PAGE_SIZE,
        ...(after !== undefined ? { after } : {}),
      });
      if (generation !== this.#generation) {
        return;
      }
      this.total = result.total;
      this.error = null;
      this.#pages.set(page, { generation, items: result.items, next: result.next });
      this.#evict();
      // After a refresh the list may have shrunk: drop pages past its end.
      for (const stale of pagesPastEnd(this.#pages.keys(), result.total, PAGE_SIZE)) {
        this.#pages.delete(stale);
      }
    } catch (err) {
      if (generation === this.#generation) {
        this.error = errorMessage(err);
      }
    } finally {
      this.#inflight.delete(key);
    }
  }

  #evict(): void {
    for (const key of pagesToEvict(this.#pages.keys(), this.#range, PAGE_SIZE, MAX_PAGES)) {
      this.#pages.delete(key);
    }
  }
}
