// Runs out to PyTorch DDP and back: the bundle export (Classify's export card) and the import of its result (Runs).
import type { Output } from '../../../../src/api/contract';
import { call } from '../api';
import { errorMessage } from '../library/types';

/** What `runs.exportTorch` answers. */
export type TorchExport = Output<'runs.exportTorch'>;
/** What `runs.importBundle` answers. */
export type BundleImport = Output<'runs.importBundle'>;

/** One bundle export at a time, with the check train.py ran on it. */
export class BundleExporter {
  busy = $state(false);
  result = $state<(TorchExport & { runId: number }) | null>(null);
  error = $state<string | null>(null);

  /** Writes run `runId` as a PyTorch bundle into `outDir` (new or empty). */
  async export(runId: number, outDir: string, withImages: boolean): Promise<void> {
    this.busy = true;
    this.error = null;
    this.result = null;
    try {
      this.result = { ...(await call('runs.exportTorch', { runId, outDir, withImages })), runId };
    } catch (err) {
      this.error = errorMessage(err);
    } finally {
      this.busy = false;
    }
  }
}

/** Importing a trained bundle's result/ as a run. */
export class BundleImporter {
  busy = $state(false);
  result = $state<BundleImport | null>(null);
  error = $state<string | null>(null);

  /** Imports the bundle folder `dir`; resolves to the new run's id, or null on failure (see error). */
  async import(dir: string): Promise<number | null> {
    this.busy = true;
    this.error = null;
    this.result = null;
    try {
      this.result = await call('runs.importBundle', { dir });
      return this.result.run.id;
    } catch (err) {
      this.error = errorMessage(err);
      return null;
    } finally {
      this.busy = false;
    }
  }
}

/** An error as a percentage with two decimals, or a dash. */
export function pct(x: number | null): string {
  return x === null ? '—' : `${(100 * x).toFixed(2)}%`;
}
