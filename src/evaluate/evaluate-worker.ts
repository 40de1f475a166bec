// Worker-thread entry of one evaluation, so inference never runs on the host's main thread.
import Database from 'better-sqlite3';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { evaluateRun, type RunEvaluation } from './run-eval.js';

const data = workerData as { libraryDir: string; runId: number; split: RunEvaluation['split']; tenCrop: boolean; nativeBinding?: string };
const db = new Database(path.join(data.libraryDir, 'library.sqlite'), data.nativeBinding ? { nativeBinding: data.nativeBinding, readonly: true } : { readonly: true });
db.pragma('busy_timeout = 5000');
try {
  parentPort!.postMessage({ ok: true, result: await evaluateRun(db, data.libraryDir, data.runId, data.split, data.tenCrop) });
} catch (err) {
  parentPort!.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) });
} finally {
  db.close();
}
