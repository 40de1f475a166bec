// Runs auto's measured probe on a Node backend in a short-lived worker thread.
import { siblingModule, spawnWorker } from '../images/spawn-worker.js';
import type { NodeBackendName } from './index.js';

/** Seconds per probe step on `backend` in this process's Node (a worker thread); rejects with the reason if it cannot run. */
export async function measureNodeBackend(backend: NodeBackendName, steps = 3): Promise<number> {
  const worker = spawnWorker(siblingModule(import.meta.url, 'probe-worker'), { workerData: { backend, steps } });
  try {
    const reply = await new Promise<{ ok: true; secondsPerStep: number } | { ok: false; message: string }>((resolve) => {
      worker.once('message', resolve);
      worker.once('error', (err) => resolve({ ok: false, message: `the probe worker crashed: ${err.message}` }));
      worker.once('exit', () => resolve({ ok: false, message: 'the probe worker exited early' }));
    });
    if (!reply.ok) {
      throw new Error(reply.message);
    }
    return reply.secondsPerStep;
  } finally {
    await worker.terminate();
  }
}
