// What the Train view's "Start from" choice offers and what it will do: the parents a run can start from,
// the layers that will be copied, re-initialised and frozen, and when the fast head is worth suggesting.
import type { ModelSummary } from '../../../../src/api/classify';
import type { DatasetSummary } from '../library/types';
import type { RunSummary, TrainConfig } from '../runs/types';

/** One parent a run can start from. */
export interface ParentOption {
  value: string;
  label: string;
  arch: string;
  /** Imported models say their input size; a run's is in its config (null here: the engine takes it). */
  inputSize: number | null;
  classes: number;
  kind: 'run' | 'model';
}

/** Finished epochs make a checkpoint: runs with one that no worker holds, and models of a known architecture. */
export function parentOptions(runs: RunSummary[], models: ModelSummary[]): ParentOption[] {
  const fromModels = models
    .filter((m) => m.arch !== null)
    .map((m) => ({ value: `model:${m.id}`, label: `Model ${m.id} — ${m.name} (${m.arch}, ${m.classes.length} classes)`, arch: m.arch!, inputSize: m.inputSize, classes: m.classes.length, kind: 'model' as const }));
  const fromRuns = runs
    .filter((r) => r.epochsDone > 0 && !['queued', 'running', 'paused'].includes(r.status))
    .map((r) => ({
      value: `run:${r.id}`,
      label: `Run ${r.id} — ${r.arch} on ${r.datasetName ?? 'a deleted dataset'}${r.bestValTop1Error === null ? '' : `, ${(100 * r.bestValTop1Error).toFixed(1)} % val error`}`,
      arch: r.arch,
      inputSize: null,
      classes: 0,
      kind: 'run' as const,
    }));
  return [...fromModels, ...fromRuns];
}

/** The plan in words: copied, re-initialised and frozen layers of an AlexNet-family network (conv1–conv5, fc6–fc8). */
export function fineTunePlan(freeze: TrainConfig['freeze'], classes: number | null): { copied: string; reinitialised: string; frozen: string } {
  return {
    copied: 'conv1–conv5, fc6, fc7 — matched by name and shape (a layer of another shape starts fresh)',
    reinitialised: `fc8, the last layer, sized to ${classes ? `this dataset's ${classes} classes` : "the dataset's classes"}`,
    frozen:
      freeze === 'none'
        ? 'nothing: every layer trains, the copied ones at the lower rate'
        : freeze === 'features'
          ? 'conv1–conv5 (the convolutional features); fc6–fc8 train'
          : 'conv1–fc7: the fast head — fc7 features are computed once per image (4 augmented views), then only fc8 trains, in seconds',
  };
}

/** Under about 100 images per class, with a pretrained model in the library, the fast head is the thing to try. */
export function suggestsFastHead(dataset: DatasetSummary | undefined, parents: ParentOption[]): ParentOption | null {
  if (!dataset || dataset.classes === 0 || dataset.images / dataset.classes >= 100) {
    return null;
  }
  return parents.find((p) => p.kind === 'model') ?? null;
}
