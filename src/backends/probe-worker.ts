// Worker-thread entry of auto's measured probe on a Node backend: activate it, time the probe step,
// answer once. A thread of its own, so neither the UI's main thread nor a training run waits on it.
import { parentPort, workerData } from 'node:worker_threads';
import type { NodeBackendName } from './index.js';
import { activateBackend } from './index.js';
import { measureTrainingStep } from './probe-step.js';

const { backend, steps } = workerData as { backend: NodeBackendName; steps: number };
try {
  await activateBackend(backend);
  parentPort!.postMessage({ ok: true, secondsPerStep: await measureTrainingStep(steps) });
} catch (err) {
  parentPort!.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) });
}
