// Worker-thread entry of one insight job: its own SQLite connection and tfjs engine.
import { parentPort, workerData } from 'node:worker_threads';
import { openLibraryDb } from '../library/open.js';
import type { FromInsightWorker, InsightWorkerData, ToInsightWorker } from './insight-task.js';
import { writeAugmentPreview } from './augment-preview.js';
import { findLearningRate } from './lr-find.js';
import { computeSuspects } from './suspects.js';

const data = workerData as InsightWorkerData;
const port = parentPort!;
const db = openLibraryDb(data.libraryDir, data.nativeBinding ? { nativeBinding: data.nativeBinding } : {});
let stop = false;
port.on('message', (m: ToInsightWorker) => {
  if (m.type === 'stop') {
    stop = true;
  }
});
const send = (m: FromInsightWorker): void => port.postMessage(m);
const hooks = { progress: (progress: Extract<FromInsightWorker, { type: 'progress' }>['progress']) => send({ type: 'progress', progress }), shouldStop: () => stop };
try {
  const { task } = data;
  if (task.kind === 'suspects') {
    send({ type: 'done', result: await computeSuspects(db, data.libraryDir, task.runId, { folds: task.folds, epochs: task.epochs }, hooks) });
  } else if (task.kind === 'lr-find') {
    const { kind: _kind, ...request } = task;
    send({ type: 'done', result: await findLearningRate(db, data.libraryDir, request, hooks) });
  } else {
    const { kind: _kind, ...request } = task;
    send({ type: 'done', result: await writeAugmentPreview(db, data.libraryDir, request) });
  }
} catch (err) {
  send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
} finally {
  db.close();
  port.close();
}
