// Worker-thread entry of one insight job: its own SQLite connection and tfjs engine.
import Database from 'better-sqlite3';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { FromInsightWorker, InsightWorkerData, ToInsightWorker } from './insight-task.js';
import { writeAugmentPreview } from './augment-preview.js';
import { findLearningRate } from './lr-find.js';
import { computeSuspects } from './suspects.js';

const data = workerData as InsightWorkerData;
const port = parentPort!;
const db = new Database(path.join(data.libraryDir, 'library.sqlite'), data.nativeBinding ? { nativeBinding: data.nativeBinding } : {});
db.pragma('busy_timeout = 5000');
db.pragma('foreign_keys = ON');
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
