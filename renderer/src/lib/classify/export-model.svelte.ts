// Exporting the chosen run's model to a folder, and the parity check the engine runs on it.
import { call } from '../api';
import { errorMessage } from '../library/types';
import type { ModelExport } from './types';

/** One export at a time: where it went, which files, and whether the exported model agrees. */
export class ModelExporter {
  busy = $state(false);
  result = $state<(ModelExport & { runId: number }) | null>(null);
  error = $state<string | null>(null);

  /** Exports run `runId` into `outDir` (new or empty) and checks it in a fresh process. */
  async export(runId: number, outDir: string): Promise<void> {
    this.busy = true;
    this.error = null;
    this.result = null;
    try {
      this.result = { ...(await call('classify.export', { runId, outDir })), runId };
    } catch (err) {
      this.error = errorMessage(err);
    } finally {
      this.busy = false;
    }
  }

  /** Forgets the last result (another run was chosen). */
  reset(): void {
    this.result = null;
    this.error = null;
  }
}
