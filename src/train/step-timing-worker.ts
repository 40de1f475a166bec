// Worker-thread entry of the Train form's estimate: activate the backend a run would use, time the real
// network's step, answer once. A thread of its own, so neither the main thread nor a training run waits on it.
import { parentPort, workerData } from 'node:worker_threads';
import { activateBackend, chooseBackend, type BackendPreference } from '../backends/index.js';
import { timeTrainingStep, type StepTimingRequest } from './step-timing.js';

const { preference, request } = workerData as { preference: BackendPreference; request: StepTimingRequest };
try {
  const choice = await chooseBackend(preference);
  const backend = await activateBackend(choice.name);
  parentPort!.postMessage({ ok: true, backend, device: choice.device, secondsPerImage: await timeTrainingStep(request) });
} catch (err) {
  parentPort!.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) });
}
