// Worker-thread entry of an ONNX export: the run's network written as .onnx and checked with ONNX Runtime on a
// sample, so ONNX Runtime's native library loads in this thread only, never in the host process.
import { parentPort, workerData } from 'node:worker_threads';
import { activateBackend, chooseBackend } from '../backends/index.js';
import type { ModelLocation } from '../classify/load.js';
import { exportRunOnnx, type OnnxExportReply } from './onnx-export.js';

/** What the host asks: the model, the file to write and the sample to compare on. */
export interface OnnxExportTask {
  location: ModelLocation;
  outFile: string;
  sample: string[];
}

/** What the worker answers. */
export type OnnxExportOutcome = { ok: true; reply: OnnxExportReply } | { ok: false; message: string };

const task = workerData as OnnxExportTask;
let outcome: OnnxExportOutcome;
try {
  const backend = await activateBackend((await chooseBackend('auto')).name);
  outcome = { ok: true, reply: await exportRunOnnx(task.location, task.outFile, task.sample, backend) };
} catch (err) {
  outcome = { ok: false, message: err instanceof Error ? err.message : String(err) };
}
parentPort!.postMessage(outcome);
// End the thread even if ONNX Runtime's or the threaded wasm backend's native threads would keep it alive.
process.exit(0);
