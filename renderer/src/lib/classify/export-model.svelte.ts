// Exporting the chosen run's model to a folder, and the parity check the engine runs on it.
import { call } from '../api';
import { errorMessage } from '../library/types';
import type { ModelExport } from './types';

/** Formats a run's model is exported in: a TF.js folder or one ONNX file. */
export type ExportFormat = 'tfjs' | 'onnx';

/** One export at a time: where it went, which files, and whether the exported model agrees. */
export class ModelExporter {
  busy = $state(false);
  result = $state<(ModelExport & { runId: number; format: ExportFormat }) | null>(null);
  error = $state<string | null>(null);

  /** Exports run `runId` into `outDir` (new or empty) and checks it in a fresh process. */
  async export(runId: number, outDir: string): Promise<void> {
    this.busy = true;
    this.error = null;
    this.result = null;
    try {
      this.result = { ...(await call('classify.export', { runId, outDir })), runId, format: 'tfjs' };
    } catch (err) {
      this.error = errorMessage(err);
    } finally {
      this.busy = false;
    }
  }

  /** Exports run `runId` as the new ONNX file `outFile` and checks it with ONNX Runtime. */
  async exportOnnx(runId: number, outFile: string): Promise<void> {
    this.busy = true;
    this.error = null;
    this.result = null;
    try {
      const r = await call('classify.exportOnnx', { runId, outFile });
      this.result = { dir: r.file, files: [r.file.split(/[\\/]/).pop()!], parity: r.parity, runId, format: 'onnx' };
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
