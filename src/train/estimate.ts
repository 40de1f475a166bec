import { ApiError } from '../api/errors.js';
import type { StepTime, StepTimeRequest } from '../api/runs.js';
import { isComputeBackend } from '../backends/index.js';
import { siblingModule, spawnWorker } from '../images/spawn-worker.js';
import { ARCHS, type ArchName } from '../model/index.js';

/** Images timed per measuring step: enough to keep the kernels busy, few enough to answer in seconds. */
const MEASURE_IMAGES = 8;

const measured = new Map<string, Promise<StepTime>>();

/**
 * The measured time of one training step of a run's network on the backend it would use (a few steps of the
 * real architecture at its input size in a worker, scaled to the batch); remembered for the session.
 */
export function measureStepTime(r: StepTimeRequest): Promise<StepTime> {
  const inputSize = r.imageSize ?? ARCHS[r.arch as ArchName].defaultInputSize;
  // webgpu/webgl train in the compute window; the estimate times the Node backend auto would take.
  const preference = isComputeBackend(r.backend) ? 'auto' : r.backend;
  const key = JSON.stringify([r.arch, inputSize, r.numClasses, preference]);
  let perImage = measured.get(key);
  if (!perImage) {
    perImage = runWorker(preference, { arch: r.arch as ArchName, inputSize, numClasses: r.numClasses, images: MEASURE_IMAGES, steps: 2 });
    perImage.catch(() => measured.delete(key));
    measured.set(key, perImage);
  }
  return perImage.then((t) => ({ ...t, secondsPerStep: t.secondsPerImage * r.batchSize }));
}

async function runWorker(preference: string, request: object): Promise<StepTime> {
  const worker = spawnWorker(siblingModule(import.meta.url, 'step-timing-worker'), { workerData: { preference, request } });
  try {
    const reply = await new Promise<{ ok: true; backend: string; device: string | null; secondsPerImage: number } | { ok: false; message: string }>((resolve) => {
      worker.once('message', resolve);
      worker.once('error', (err) => resolve({ ok: false, message: `the timing worker crashed: ${err.message}` }));
      worker.once('exit', () => resolve({ ok: false, message: 'the timing worker exited early' }));
    });
    if (!reply.ok) {
      throw new ApiError('unavailable', `Could not time a training step: ${reply.message}`);
    }
    return { backend: reply.backend, device: reply.device, secondsPerImage: reply.secondsPerImage, secondsPerStep: reply.secondsPerImage, measuredImages: MEASURE_IMAGES };
  } finally {
    await worker.terminate();
  }
}
