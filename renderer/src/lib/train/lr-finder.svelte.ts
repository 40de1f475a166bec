// The learning-rate finder of the Train form: the dataset's latest sweep, a new sweep with progress, and
// its suggestion for the form's learning rate.
import { call, on } from '../api';
import { errorMessage } from '../library/types';
import type { Output } from '../../../../src/api/contract';
import type { TrainForm } from './train-form.svelte';

export type LrFindResult = Output<'lrfinder.run'>;

/** One dataset's sweep state. */
export class LrFinder {
  result = $state<LrFindResult | null>(null);
  running = $state(false);
  message = $state<string | null>(null);
  error = $state<string | null>(null);
  #datasetId: number | null = null;

  /** Shows the dataset's latest stored sweep (none for a dataset not swept yet). */
  async show(datasetId: number | null): Promise<void> {
    if (datasetId === this.#datasetId) {
      return;
    }
    this.#datasetId = datasetId;
    this.result = null;
    this.error = null;
    if (datasetId !== null) {
      const latest = await call('lrfinder.latest', { datasetId }).catch(() => null);
      if (this.#datasetId === datasetId && !this.running) {
        this.result = latest;
      }
    }
  }

  /** Sweeps with the form's settings (network, batch, optimizer, augmentation) on its dataset. */
  async run(form: TrainForm): Promise<void> {
    const config = form.config();
    this.running = true;
    this.error = null;
    this.message = 'Starting…';
    const stop = on('lrfinder.progress', (p) => {
      if (p.datasetId === config.datasetId) {
        this.message = p.message;
      }
    });
    try {
      this.result = await call('lrfinder.run', { config });
    } catch (err) {
      this.error = errorMessage(err);
    } finally {
      stop();
      this.running = false;
      this.message = null;
    }
  }
}
