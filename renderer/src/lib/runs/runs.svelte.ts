// The Runs view's state: the list of runs (kept fresh from events) and the run a user opened.
import { call, on } from '../api';
import { errorMessage } from '../library/types';
import type { RunDetail, RunSummary } from './types';

/** Every run in the library, and the detail of the selected one. */
export class RunsStore {
  list = $state<RunSummary[] | null>(null);
  error = $state<string | null>(null);
  /** The run whose detail is open (also set by the Train view's "open in Runs" link). */
  selectedId = $state<number | null>(null);
  detail = $state<RunDetail | null>(null);
  detailError = $state<string | null>(null);
  /** An action (resume) in flight, and its error. */
  acting = $state(false);
  actionError = $state<string | null>(null);
  #listRequest = 0;
  #detailRequest = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;

  /** Loads the list and follows training events; returns the unsubscribe. */
  start(): () => void {
    void this.load();
    if (this.selectedId !== null) {
      void this.loadDetail();
    }
    const stops = [
      on('train.epoch', (e) => this.#refreshSoon(e.runId)),
      on('run.finished', (e) => this.#refreshSoon(e.runId)),
      // Pause and resume change only the status: take it from the event.
      on('run.status', (s) => {
        this.list = this.list?.map((r) => (r.id === s.runId ? { ...r, status: s.status } : r)) ?? null;
        if (this.detail?.id === s.runId) {
          this.detail = { ...this.detail, status: s.status };
        }
      }),
      // A run that starts or resumes (here, in the CLI or another window) shows up as training at once.
      on('train.progress', (p) => {
        const listed = this.list?.find((r) => r.id === p.runId);
        if (this.list && (!listed || listed.status !== 'running') && !this.#timer) {
          this.#refreshSoon(p.runId);
        }
      }),
    ];
    return () => {
      stops.forEach((stop) => stop());
      if (this.#timer) {
        clearTimeout(this.#timer);
      }
    };
  }

  /** Fetches the list of runs. */
  async load(): Promise<void> {
    const request = ++this.#listRequest;
    try {
      const list = await call('runs.list');
      if (request === this.#listRequest) {
        this.list = list;
        this.error = null;
      }
    } catch (err) {
      this.error = errorMessage(err);
    }
  }

  /** Opens one run's detail (or closes it with null). */
  select(id: number | null): void {
    this.selectedId = id;
    this.actionError = null;
    if (id === null) {
      this.detail = null;
    } else if (this.detail?.id !== id) {
      this.detail = null;
      void this.loadDetail();
    } else {
      void this.loadDetail();
    }
  }

  /** Fetches the selected run's config, epochs and log. */
  async loadDetail(): Promise<void> {
    const id = this.selectedId;
    if (id === null) {
      return;
    }
    const request = ++this.#detailRequest;
    try {
      const detail = await call('runs.get', { id });
      if (request === this.#detailRequest && this.selectedId === id) {
        this.detail = detail;
        this.detailError = null;
      }
    } catch (err) {
      if (request === this.#detailRequest) {
        this.detailError = errorMessage(err);
      }
    }
  }

  /** Resumes a stopped or interrupted run from its checkpoint. */
  async resume(id: number): Promise<boolean> {
    this.acting = true;
    this.actionError = null;
    try {
      await call('runs.resume', { id });
      await Promise.all([this.load(), this.loadDetail()]);
      return true;
    } catch (err) {
      this.actionError = errorMessage(err);
      return false;
    } finally {
      this.acting = false;
    }
  }

  /** Sets a run's tags and/or note; the list and detail show the saved values. */
  async update(id: number, change: { tags?: string[]; note?: string }): Promise<void> {
    const saved = await call('runs.update', { id, ...change });
    this.list = this.list?.map((r) => (r.id === id ? saved : r)) ?? null;
    if (this.detail?.id === id) {
      this.detail = { ...this.detail, tags: saved.tags, note: saved.note };
    }
  }

  /** Deletes a run with its checkpoint, predictions and features; closes it if open. */
  async remove(id: number): Promise<void> {
    await call('runs.delete', { id });
    if (this.selectedId === id) {
      this.select(null);
    }
    this.list = this.list?.filter((r) => r.id !== id) ?? null;
    void this.load();
  }

  // Epoch and finish events come in bursts at epoch ends; one refresh covers them.
  #refreshSoon(runId: number): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
    }
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.load();
      if (this.selectedId === runId) {
        void this.loadDetail();
      }
    }, 150);
  }
}

/** The one runs store of the app. */
export const runs = new RunsStore();
