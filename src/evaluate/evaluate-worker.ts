// Worker-thread entry of one evaluation task (a prediction pass, or one layer's activations for one
// image, or Grad-CAM overlays of image files), so model loading and inference never run on the host's main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { openLibraryDb } from '../library/open.js';
import { writeActivationGrid } from './activations.js';
import type { EvalWorkerData, EvalWorkerReply } from './eval-task.js';
import { explainFiles } from './explain.js';
import { computePredictions } from './run-eval.js';

const data = workerData as EvalWorkerData;
const db = openLibraryDb(data.libraryDir, data.nativeBinding ? { nativeBinding: data.nativeBinding } : {});
const reply = (m: EvalWorkerReply): void => parentPort!.postMessage(m);
try {
  const { task } = data;
  if (task.kind === 'predict') {
    const done = await computePredictions(db, data.libraryDir, task.runId, task.split, { tenCrop: task.tenCrop });
    reply({ ok: true, result: done! });
  } else if (task.kind === 'explain') {
    const { kind: _kind, ...request } = task;
    reply({ ok: true, result: await explainFiles(db, data.libraryDir, request) });
  } else {
    reply({ ok: true, result: await writeActivationGrid(db, data.libraryDir, task.runId, task.imageId, task.layer, task.file) });
  }
} catch (err) {
  reply({ ok: false, message: err instanceof Error ? err.message : String(err) });
} finally {
  db.close();
}
