// Which network classifies: the finished runs and imported models to choose from, the choice, its measured cost,
// and importing or removing model folders.
import { call, on } from '../api';
import { errorMessage } from '../library/types';
import { isClassifiableRun } from './format';
import type { ClassifierSource, ClassifyCost, ModelSummary, RunSummary } from './types';

/** The key of a choice in the picker: "run:3" or "model:2". */
export type ChoiceKey = `run:${number}` | `model:${number}`;

/** Runs and models to classify with, and the one chosen. */
export class ModelChoice {
  runs = $state<RunSummary[] | null>(null);
  models = $state<ModelSummary[] | null>(null);
  error = $state<string | null>(null);
  selected = $state<ChoiceKey | null>(null);
  cost = $state<ClassifyCost | null>(null);
  costError = $state<string | null>(null);
  measuring = $state(false);
  importing = $state(false);
  importError = $state<string | null>(null);
  #costFor: ChoiceKey | null = null;

  /** Runs that have a checkpoint and are not training. */
  readonly usableRuns = $derived((this.runs ?? []).filter(isClassifiableRun));
  /** True once both lists have loaded. */
  readonly loaded = $derived(this.runs !== null && this.models !== null);
  /** The chosen run, when a run is chosen. */
  readonly run = $derived(this.selected?.startsWith('run:') ? (this.usableRuns.find((r) => `run:${r.id}` === this.selected) ?? null) : null);
  /** The chosen imported model, when a model is chosen. */
  readonly model = $derived(this.selected?.startsWith('model:') ? ((this.models ?? []).find((m) => `model:${m.id}` === this.selected) ?? null) : null);
  /** What `classify.*` is told to use. */
  readonly source = $derived<ClassifierSource | null>(this.run ? { runId: this.run.id } : this.model ? { modelId: this.model.id } : null);

  /** Loads both lists and refreshes them when a run finishes; returns the unsubscribe. */
  start(): () => void {
    void this.load();
    return on('run.finished', () => void this.load());
  }

  /** Fetches runs and models; keeps the choice while it still exists, else picks the newest. */
  async load(): Promise<void> {
    try {
      const [runs, models] = await Promise.all([call('runs.list'), call('models.list')]);
      this.runs = runs;
      this.models = models;
      this.error = null;
      if (!this.run && !this.model) {
        const first = this.usableRuns[0];
        const model = models[0];
        this.select(first ? `run:${first.id}` : model ? `model:${model.id}` : null);
      }
    } catch (err) {
      this.error = errorMessage(err);
    }
  }

  /** Chooses a run or model and measures its cost per image (in the background). */
  select(key: ChoiceKey | null): void {
    this.selected = key;
    if (key !== this.#costFor) {
      this.cost = null;
      this.costError = null;
      this.#costFor = null;
    }
  }

  /** Measures centre-crop and ten-crop time per image of the chosen source, once per choice. */
  async measureCost(): Promise<void> {
    const key = this.selected;
    const source = this.source;
    if (!key || !source || this.#costFor === key) {
      return;
    }
    this.#costFor = key;
    this.measuring = true;
    try {
      const cost = await call('classify.cost', { source });
      if (this.selected === key) {
        this.cost = cost;
      }
    } catch (err) {
      if (this.selected === key) {
        this.costError = errorMessage(err);
        this.#costFor = null;
      }
    } finally {
      this.measuring = false;
    }
  }

  /** Copies an exported model folder into the library and chooses it. */
  async importFolder(dir: string): Promise<boolean> {
    this.importing = true;
    this.importError = null;
    try {
      const model = await call('models.import', { dir });
      this.models = [model, ...(this.models ?? []).filter((m) => m.id !== model.id)];
      this.select(`model:${model.id}`);
      return true;
    } catch (err) {
      this.importError = errorMessage(err);
      return false;
    } finally {
      this.importing = false;
    }
  }

  /** Removes an imported model from the library. */
  async deleteModel(id: number): Promise<void> {
    try {
      await call('models.delete', { id });
      this.models = (this.models ?? []).filter((m) => m.id !== id);
      if (this.selected === `model:${id}`) {
        this.select(this.usableRuns[0] ? `run:${this.usableRuns[0].id}` : null);
      }
    } catch (err) {
      this.importError = errorMessage(err);
    }
  }
}
