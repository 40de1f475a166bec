// Worker-thread entry of a run that trains in a compute window: data, loaders, SQLite and checkpoints
// here; the main thread only relays protocol messages between this worker and the window.
import { parentPort, workerData } from 'node:worker_threads';
import { openLibraryDb } from '../../../library/open.js';
import type { FromCompute, ToCompute } from '../protocol.js';
import { runSession } from '../../run-session.js';
import type { RunControl } from '../../trainer.js';
import { WindowTrainer, type ComputeLink } from '../../window-trainer.js';
import type { FromRunWorker, RunWorkerData, ToRunWorker } from '../../messages.js';

/** Main → compute worker: run controls, the window's messages, and its loss. */
export type ToComputeWorker = ToRunWorker | { type: 'compute'; message: FromCompute } | { type: 'compute-lost'; reason: string };

/** Compute worker → main: the run worker's messages, and messages for the window. */
export type FromComputeWorker = FromRunWorker | { type: 'compute'; message: ToCompute };

const data = workerData as RunWorkerData;
const port = parentPort!;
const db = openLibraryDb(data.libraryDir, data.nativeBinding ? { nativeBinding: data.nativeBinding } : {});

const listeners: Array<(m: FromCompute) => void> = [];
let markLost: (reason: string) => void = () => undefined;
// Controls go on to the window, which pauses there; the session reads stop for the predictions after training.
const control: RunControl = { paused: false, stopRequested: false, waitWhilePaused: async () => undefined };
const link: ComputeLink = {
  post: (message, transfer) => port.postMessage({ type: 'compute', message } satisfies FromComputeWorker, transfer),
  onMessage: (l) => listeners.push(l),
  lost: new Promise((resolve) => (markLost = resolve)),
};
port.on('message', (m: ToComputeWorker) => {
  if (m.type === 'compute') {
    listeners.forEach((l) => l(m.message));
  } else if (m.type === 'compute-lost') {
    markLost(m.reason);
  } else {
    control.stopRequested ||= m.action === 'stop';
    link.post({ type: 'control', action: m.action }, []);
  }
});

const send = (m: FromRunWorker): void => port.postMessage(m);
await runSession(db, data.libraryDir, data.runId, data.resume, control, send, new WindowTrainer(link, data.backend));
db.close();
port.close();
// End the thread even if helper threads (the threaded wasm backend's) would keep its event loop alive.
process.exit(0);
