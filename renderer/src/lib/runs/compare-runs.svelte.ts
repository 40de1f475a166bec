// Curves of several runs for one overlaid chart: each ticked run's epochs fetched once (and again when it trains on).
import { SvelteMap } from 'svelte/reactivity';
import { call } from '../api';
import type { LineSeries } from '../charts/series';
import { errorMessage } from '../library/types';
import type { EpochMetrics, RunSummary } from './types';

/** Distinct line colours for overlaid runs (readable on light and dark). */
export const RUN_COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#9333ea', '#ea580c'];

/** Per-run epoch metrics for the compare chart. */
export class CompareRuns {
  readonly epochs = new SvelteMap<number, EpochMetrics[]>();
  error = $state<string | null>(null);
  readonly #fetched = new Map<number, number>();

  /** Fetches the epochs of runs not yet loaded (or that gained epochs since). */
  async ensure(runs: RunSummary[]): Promise<void> {
    await Promise.all(
      runs
        .filter((r) => this.#fetched.get(r.id) !== r.epochsDone)
        .map(async (r) => {
          this.#fetched.set(r.id, r.epochsDone);
          try {
            this.epochs.set(r.id, (await call('runs.get', { id: r.id })).epochsData);
          } catch (err) {
            this.error = errorMessage(err);
          }
        }),
    );
  }
}

/** A run's name in chart legends: id, network and tags. */
export function runLabel(r: RunSummary): string {
  return `#${r.id} ${r.arch}${r.tags.length ? ` (${r.tags.join(', ')})` : ''}`;
}

/** One line per run of one metric, coloured by the run's position in `runs`. */
export function overlaidSeries(runs: RunSummary[], epochs: ReadonlyMap<number, EpochMetrics[]>, metric: (e: EpochMetrics) => number | null): LineSeries[] {
  return runs.map((r, i) => ({
    label: runLabel(r),
    color: RUN_COLOURS[i % RUN_COLOURS.length]!,
    points: (epochs.get(r.id) ?? []).map((e) => ({ x: e.epoch, y: metric(e) })),
    markers: true,
  }));
}

/**
 * Top-1 error per run in percent: the validation curve (solid, per epoch; left out for runs without one) and the
 * test error measured after training (one dashed-legend marker at the run's last epoch; left out until measured).
 */
export function errorSeries(runs: RunSummary[], epochs: ReadonlyMap<number, EpochMetrics[]>): LineSeries[] {
  return runs.flatMap((r, i) => {
    const color = RUN_COLOURS[i % RUN_COLOURS.length]!;
    const list = epochs.get(r.id) ?? [];
    const val: LineSeries = { label: `${runLabel(r)} val`, color, markers: true, points: list.map((e) => ({ x: e.epoch, y: e.valTop1Error === null ? null : e.valTop1Error * 100 })) };
    const lastEpoch = list.at(-1)?.epoch ?? r.epochsDone;
    const test: LineSeries = { label: `${runLabel(r)} test`, color, markers: true, dash: [4, 4], points: [{ x: lastEpoch, y: r.testTop1Error === null ? null : r.testTop1Error * 100 }] };
    return [...(val.points.some((p) => p.y !== null) ? [val] : []), ...(r.testTop1Error !== null ? [test] : [])];
  });
}
