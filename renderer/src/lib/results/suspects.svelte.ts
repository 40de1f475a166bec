// A run's suspected labels: the stored scan's ranked page, a scan in progress (events), start / stop, and
// "retrain with fixes" (a new run from the same config on the library as it is now).
import { call, on } from '../api';
import { errorMessage } from '../library/types';
import { PagedList } from './paged-list.svelte';
import type { RunResults } from './run-results.svelte';
import type { Output } from '../../../../src/api/contract';

export type SuspectImage = Output<'suspects.list'>['items'][number];
export type SuspectScan = NonNullable<Output<'suspects.list'>['scan']>;
export type SuspectJob = NonNullable<Output<'suspects.list'>['job']>;

/** Suspects state of the open run. */
export class RunSuspects {
  scan = $state<SuspectScan | null>(null);
  job = $state<SuspectJob | null>(null);
  loaded = $state(false);
  error = $state<string | null>(null);
  folds = $state(3);
  /** Epochs per fold; null: the server's default (the run's epochs, at most 8). */
  epochs = $state<number | null>(null);
  readonly list: PagedList<SuspectImage>;
  readonly #runId: number;

  constructor(results: RunResults) {
    this.#runId = results.runId;
    this.list = new PagedList<SuspectImage>((offset, limit) => this.#page(offset, limit));
    results.editListeners.push((apply) => this.list.patch(apply));
  }

  /** True while a scan of this run runs. */
  get running(): boolean {
    return this.job?.status === 'running';
  }

  async #page(offset: number, limit: number): Promise<{ total: number; items: SuspectImage[] }> {
    const page = await call('suspects.list', { runId: this.#runId, offset, limit });
    this.scan = page.scan;
    this.job = page.job;
    this.loaded = true;
    return page;
  }

  /** Follows scan progress; returns the unsubscribe function. */
  listen(): () => void {
    return on('suspects.progress', (job) => {
      if (job.runId !== this.#runId) {
        return;
      }
      const was = this.job?.status;
      this.job = job;
      if (was === 'running' && job.status !== 'running') {
        this.list.reset((offset, limit) => this.#page(offset, limit));
      }
    });
  }

  async start(): Promise<void> {
    this.error = null;
    try {
      this.job = await call('suspects.start', { runId: this.#runId, folds: this.folds, ...(this.epochs ? { epochs: this.epochs } : {}) });
    } catch (err) {
      this.error = errorMessage(err);
    }
  }

  async stop(): Promise<void> {
    try {
      this.job = await call('suspects.stop', { runId: this.#runId });
    } catch (err) {
      this.error = errorMessage(err);
    }
  }

  /** The run's config, for a new run on the library as it is now (relabels and exclusions included). */
  async config(): Promise<Output<'runs.get'>['config']> {
    return (await call('runs.get', { id: this.#runId })).config;
  }
}

const byResults = new WeakMap<RunResults, RunSuspects>();

/** The suspects state of a run's results (one per open run, kept while its page is). */
export function suspectsOf(results: RunResults): RunSuspects {
  let s = byResults.get(results);
  if (!s) {
    s = new RunSuspects(results);
    byResults.set(results, s);
  }
  return s;
}
