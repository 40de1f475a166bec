// The datasets list and per-dataset details (class lists for histograms), with rename/delete/re-split.
import { SvelteMap } from 'svelte/reactivity';
import { call, on } from '../api';
import { errorMessage, type DatasetDetail, type DatasetSummary, type SplitRequest } from './types';

/** Every dataset in the library, loaded on demand and refreshed after imports and edits. */
export class DatasetsStore {
  list = $state<DatasetSummary[] | null>(null);
  loading = $state(false);
  error = $state<string | null>(null);
  /** Details by dataset id (class lists for histograms and filters). */
  readonly details = new SvelteMap<number, DatasetDetail>();
  #unsubscribe: (() => void) | null = null;
  readonly #pending = new Set<number>();
  // Answers can overtake each other; only the newest request's answer is applied.
  #listRequest = 0;
  readonly #detailRequest = new Map<number, number>();

  /** Loads the list now and again whenever an import finishes. */
  start(): () => void {
    void this.load();
    if (!this.#unsubscribe) {
      const stops = [
        on('import.finished', () => void this.load()),
        // A new import's dataset shows up (as "Importing…") as soon as the engine has made it.
        on('import.progress', (p) => {
          if (p.datasetId !== null && this.list && !this.list.some((d) => d.id === p.datasetId) && !this.#pending.has(p.datasetId)) {
            this.#pending.add(p.datasetId);
            void this.load().finally(() => this.#pending.delete(p.datasetId!));
          }
        }),
      ];
      this.#unsubscribe = () => stops.forEach((stop) => stop());
    }
    return () => {
      this.#unsubscribe?.();
      this.#unsubscribe = null;
    };
  }

  /** Fetches the list, then each dataset's details (for class histograms). */
  async load(): Promise<void> {
    this.loading = true;
    const request = ++this.#listRequest;
    try {
      const list = await call('datasets.list');
      if (request !== this.#listRequest) {
        return;
      }
      this.list = list;
      this.error = null;
      for (const id of this.details.keys()) {
        if (!list.some((d) => d.id === id)) {
          this.details.delete(id);
        }
      }
      await Promise.all(list.map((d) => this.loadDetail(d.id)));
    } catch (err) {
      this.error = errorMessage(err);
    } finally {
      this.loading = false;
    }
  }

  /** Fetches one dataset's details; errors are kept on the store, never thrown. */
  async loadDetail(id: number): Promise<DatasetDetail | null> {
    const request = (this.#detailRequest.get(id) ?? 0) + 1;
    this.#detailRequest.set(id, request);
    try {
      const detail = await call('datasets.get', { id });
      if (request !== this.#detailRequest.get(id)) {
        return this.details.get(id) ?? null;
      }
      this.details.set(id, detail);
      this.#replaceSummary(detail);
      return detail;
    } catch (err) {
      this.error = errorMessage(err);
      return null;
    }
  }

  /** Renames a dataset; throws the engine's message for the dialog to show. */
  async rename(id: number, name: string): Promise<void> {
    const summary = await call('datasets.rename', { id, name });
    this.#replaceSummary(summary);
    const detail = this.details.get(id);
    if (detail) {
      this.details.set(id, { ...detail, name: summary.name });
    }
  }

  /** Removes a dataset from the library (never its source files). */
  async remove(id: number): Promise<void> {
    await call('datasets.delete', { id });
    this.list = this.list?.filter((d) => d.id !== id) ?? null;
    this.details.delete(id);
  }

  /** Draws a new stratified train/val/test split (with keepTest: only train/val, the test split stays). */
  async resplit(id: number, split: SplitRequest & { keepTest?: boolean }): Promise<void> {
    const detail = await call('datasets.resplit', { id, ...split });
    this.details.set(id, detail);
    this.#replaceSummary(detail);
  }

  /** The summary of one dataset, if listed. */
  summary(id: number): DatasetSummary | undefined {
    return this.list?.find((d) => d.id === id);
  }

  #replaceSummary(next: DatasetSummary): void {
    if (this.list) {
      const summary: DatasetSummary = {
        id: next.id,
        name: next.name,
        createdAt: next.createdAt,
        sourcePaths: next.sourcePaths,
        images: next.images,
        classes: next.classes,
        splits: next.splits,
        balance: next.balance,
        sizeBytes: next.sizeBytes,
        state: next.state,
        warnings: next.warnings,
      };
      this.list = this.list.map((d) => (d.id === next.id ? summary : d));
    }
  }
}

/** The one datasets store of the app. */
export const datasets = new DatasetsStore();
