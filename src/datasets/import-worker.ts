import { parentPort, workerData } from 'node:worker_threads';
import type { ImportRequest } from '../api/datasets.js';
import { ProbePool } from './image-probe-pool.js';
import type { ImportWorkerData, WorkerMessage } from './worker-messages.js';

// The import's own thread: its own connection to the WAL database, batched write transactions.
const data = workerData as ImportWorkerData;
const cancelFlag = new Int32Array(data.cancelFlag);
const post = (message: WorkerMessage): void => parentPort!.postMessage(message);

// The probe threads boot while this thread loads SQLite and the indexer (the pool's own imports are light).
const probes = new ProbePool();
const [{ openLibraryDb }, { runImport }] = await Promise.all([import('../library/open.js'), import('./indexer.js')]);

const db = openLibraryDb(data.libraryDir, data.nativeBinding ? { nativeBinding: data.nativeBinding } : {});
try {
  const finished = await runImport(
    db,
    data.jobId,
    data.request as ImportRequest,
    {
      progress: (progress) => post({ type: 'progress', progress }),
      cancelled: () => Atomics.load(cancelFlag, 0) === 1,
    },
    probes,
  );
  post({ type: 'finished', finished });
} catch (err) {
  post({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
} finally {
  db.close();
}
