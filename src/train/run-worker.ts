// Worker-thread entry of one training run: owns its own SQLite connection and the tfjs engine, so
// the main thread (the UI's or the server's) never trains.
import { parentPort, workerData } from 'node:worker_threads';
import { openLibraryDb } from '../library/open.js';
import type { FromRunWorker, RunWorkerData, ToRunWorker } from './messages.js';
import { runSession } from './run-session.js';
import { TfjsTrainer } from './tfjs-trainer.js';
import type { RunControl } from './trainer.js';

const data = workerData as RunWorkerData;
const port = parentPort!;
const db = openLibraryDb(data.libraryDir, data.nativeBinding ? { nativeBinding: data.nativeBinding } : {});

let wake: (() => void) | null = null;
const control: RunControl = {
  paused: false,
  stopRequested: false,
  waitWhilePaused: () =>
    new Promise<void>((resolve) => {
      wake = resolve;
    }),
};

port.on('message', (m: ToRunWorker) => {
  if (m.type === 'control') {
    if (m.action === 'pause') {
      control.paused = true;
    } else {
      control.paused = false;
      control.stopRequested ||= m.action === 'stop';
      wake?.();
      wake = null;
    }
  }
});

const send = (m: FromRunWorker): void => port.postMessage(m);
await runSession(db, data.libraryDir, data.runId, data.resume, control, send, new TfjsTrainer(data.libraryDir, data.backend));
db.close();
port.close();
// End the thread even if the threaded wasm backend's helper threads (Emscripten's pthreads, our kernel pool)
// would keep its event loop alive; the messages sent above are already queued on the parent's side.
process.exit(0);
