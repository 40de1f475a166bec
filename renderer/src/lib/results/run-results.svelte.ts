// One open run's results: which splits have predictions, the summary of the chosen split, the confusion
// cell and image a user picked, and library edits (relabel / exclude) made from a results gallery.
import { call } from '../api';
import { errorMessage, type ClassSummary, type ImageChange } from '../library/types';
import { PagedList } from './paged-list.svelte';
import type { PredictionSet, ResultImage, ResultSplit, ResultSummary, RunTab } from './types';

/** A confusion-matrix cell: true label × predicted label. */
export interface Cell {
  trueLabel: number;
  predictedLabel: number;
}

/** Results state of the run whose page is open. */
export class RunResults {
  readonly runId: number;
  readonly datasetId: number;
  tab = $state<RunTab>('overview');
  split = $state<ResultSplit>('val');
  sets = $state<PredictionSet[] | null>(null);
  summary = $state<ResultSummary | null>(null);
  loading = $state(false);
  error = $state<string | null>(null);
  /** A `runs.predict` in flight for the current split. */
  predicting = $state(false);
  cell = $state<Cell | null>(null);
  /** The true label the Mistakes gallery is narrowed to (from the per-class table); null for all. */
  mistakesOf = $state<number | null>(null);
  /** Gallery order: most confident first (the paper's Fig. 4) or least. */
  order = $state<'mostConfident' | 'leastConfident'>('mostConfident');
  /** The image picked in any gallery (detail panel, neighbours, activations). */
  image = $state<ResultImage | null>(null);
  /** The dataset's classes now (for relabelling); null until loaded or when the dataset is gone. */
  classes = $state<ClassSummary[] | null>(null);
  editing = $state(false);
  editError = $state<string | null>(null);
  /** The last edit, said in words ("Relabelled circle-0004.png as square"). */
  editNote = $state<string | null>(null);
  /** The images of the chosen confusion cell. */
  readonly cellImages: PagedList<ResultImage>;
  /** Misclassified images of the chosen split. */
  readonly mistakes: PagedList<ResultImage>;
  /** Other galleries (the Suspects tab's) that show an edit at once, as mistakes and cells do. */
  readonly editListeners: Array<(apply: <I extends ResultImage>(it: I) => I | null) => void> = [];
  #request = 0;
  /** Set once the user picks a split: from then on `load` never moves to another one. */
  #splitChosen = false;

  constructor(runId: number, datasetId: number) {
    this.runId = runId;
    this.datasetId = datasetId;
    this.cellImages = new PagedList<ResultImage>(() => Promise.resolve({ total: 0, items: [] }));
    this.mistakes = new PagedList<ResultImage>(this.#mistakesFetcher());
  }

  /** Images per split in the run's dataset (from its classes); null until known. */
  get splitSizes(): Record<ResultSplit, number> | null {
    if (!this.classes) {
      return null;
    }
    const sizes = { train: 0, val: 0, test: 0 };
    for (const c of this.classes) {
      sizes.train += c.splitCounts.train;
      sizes.val += c.splitCounts.val;
      sizes.test += c.splitCounts.test;
    }
    return sizes;
  }

  /** True when the current split holds no image, so there is nothing to compute on it. */
  get splitEmpty(): boolean {
    return this.splitSizes?.[this.split] === 0;
  }

  /** True when predictions are stored for the current split. */
  get hasSet(): boolean {
    return this.sets?.some((s) => s.split === this.split) ?? false;
  }

  /** Loads the stored prediction sets, the current split's summary and the dataset's classes. */
  async load(): Promise<void> {
    const request = ++this.#request;
    this.loading = true;
    try {
      const sets = await call('results.sets', { runId: this.runId });
      await this.#loadClasses();
      if (request !== this.#request) {
        return;
      }
      this.sets = sets;
      // Open on a split that has predictions when the current one has none, else on one that has images.
      const sizes = this.splitSizes;
      if (this.#splitChosen) {
        // A split the user picked stays, with or without predictions.
      } else if (!sets.some((s) => s.split === this.split) && sets.length > 0) {
        this.split = (sets.find((s) => s.split === 'val') ?? sets.find((s) => s.split === 'test') ?? sets[0]!).split;
        this.mistakes.reset(this.#mistakesFetcher());
      } else if (sets.length === 0 && sizes && sizes[this.split] === 0) {
        this.split = (['val', 'test', 'train'] as const).find((s) => sizes[s] > 0) ?? this.split;
        this.mistakes.reset(this.#mistakesFetcher());
      }
      await this.#loadSummary(request);
      this.error = null;
    } catch (err) {
      if (request === this.#request) {
        this.error = errorMessage(err);
      }
    } finally {
      if (request === this.#request) {
        this.loading = false;
      }
    }
    void this.#loadClasses();
  }

  /** Switches split: a new summary, no cell, mistakes from the top. */
  setSplit(split: ResultSplit): void {
    this.#splitChosen = true;
    this.split = split;
    this.cell = null;
    this.mistakesOf = null;
    this.summary = null;
    this.mistakes.reset(this.#mistakesFetcher());
    void this.load();
  }

  /** Computes and stores predictions for the current split (`runs.predict`), then shows them. */
  async predict(): Promise<void> {
    this.predicting = true;
    this.error = null;
    try {
      await call('runs.predict', { id: this.runId, split: this.split });
      this.mistakes.reset(this.#mistakesFetcher());
      await this.load();
    } catch (err) {
      this.error = errorMessage(err);
    } finally {
      this.predicting = false;
    }
  }

  /** Opens the gallery of one confusion cell (null closes it). */
  openCell(cell: Cell | null): void {
    this.cell = cell;
    if (cell) {
      const { runId, split, order } = this;
      this.cellImages.reset((offset, limit) => call('results.cell', { runId, split, ...cell, order, offset, limit }));
    }
  }

  /** Opens the Mistakes tab on one true class's mistakes (null: every class). */
  showMistakesOf(label: number | null): void {
    this.mistakesOf = label;
    this.mistakes.reset(this.#mistakesFetcher());
    this.tab = 'mistakes';
  }

  /** Flips the galleries between most and least confident first. */
  setOrder(order: 'mostConfident' | 'leastConfident'): void {
    this.order = order;
    this.mistakes.reset(this.#mistakesFetcher());
    this.openCell(this.cell);
  }

  #mistakesFetcher(): (offset: number, limit: number) => ReturnType<typeof call<'results.mistakes'>> {
    const { runId, split, order } = this;
    const trueLabel = this.mistakesOf ?? undefined;
    return (offset, limit) => call('results.mistakes', { runId, split, order, trueLabel, offset, limit });
  }

  /** Picks an image for the detail panel. */
  pick(image: ResultImage | null): void {
    this.image = image;
    this.editError = null;
  }

  /** The dataset class a run's class name maps to now (for "relabel as predicted"). */
  classNamed(name: string): ClassSummary | undefined {
    return this.classes?.find((c) => c.name === name);
  }

  /** Relabels or excludes/includes one image in the library, and shows the change in every gallery. */
  async edit(image: ResultImage, change: ImageChange): Promise<boolean> {
    this.editing = true;
    this.editError = null;
    try {
      await call('images.update', { ids: [image.id], ...change });
      const className = change.classId !== undefined ? (this.classes?.find((c) => c.id === change.classId)?.name ?? image.className) : image.className;
      const apply = <I extends ResultImage>(it: I): I | null =>
        it.id === image.id
          ? {
              ...it,
              ...(change.classId !== undefined ? { classId: change.classId, className } : {}),
              ...(change.excluded !== undefined ? { excluded: change.excluded } : {}),
              ...(change.split !== undefined ? { split: change.split } : {}),
            }
          : null;
      this.mistakes.patch(apply);
      this.cellImages.patch(apply);
      this.editListeners.forEach((listener) => listener(apply));
      if (this.image?.id === image.id) {
        this.image = apply(this.image);
      }
      this.editNote =
        change.classId !== undefined
          ? `Relabelled ${image.fileName} as ${className} in the library`
          : change.split !== undefined
            ? `Moved ${image.fileName} to ${change.split} in the library`
            : `${change.excluded ? 'Excluded' : 'Included'} ${image.fileName} ${change.excluded ? 'from' : 'in'} training`;
      return true;
    } catch (err) {
      this.editError = errorMessage(err);
      return false;
    } finally {
      this.editing = false;
    }
  }

  async #loadSummary(request: number): Promise<void> {
    if (!this.hasSet) {
      this.summary = null;
      return;
    }
    const summary = await call('results.summary', { runId: this.runId, split: this.split });
    if (request === this.#request) {
      this.summary = summary;
    }
  }

  async #loadClasses(): Promise<void> {
    if (this.classes) {
      return;
    }
    try {
      this.classes = (await call('datasets.get', { id: this.datasetId })).classList;
    } catch {
      this.classes = null;
    }
  }
}
