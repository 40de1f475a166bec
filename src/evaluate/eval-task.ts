import type { PredictionSet } from '../api/results.js';
import { ApiError } from '../api/errors.js';
import { siblingModule, spawnWorker } from '../images/spawn-worker.js';
import type { ActivationGrid } from './activations.js';
import type { ExplainRequest, ExplainResult } from './explain.js';
import type { RunEvaluation } from '../api/runs.js';

/** A job for the evaluation worker. */
export type EvalTask =
  | { kind: 'predict'; runId: number; split: RunEvaluation['split']; tenCrop: boolean }
  | { kind: 'activations'; runId: number; imageId: number; layer: string; file: string }
  | ({ kind: 'explain' } & ExplainRequest);

/** What the evaluation worker is started with. */
export interface EvalWorkerData {
  libraryDir: string;
  nativeBinding?: string;
  task: EvalTask;
}

/** What it answers, once. */
export type EvalWorkerReply = { ok: true; result: unknown } | { ok: false; message: string };

type ResultOf<T extends EvalTask> = T extends { kind: 'predict' } ? { evaluation: RunEvaluation; set: PredictionSet } : T extends { kind: 'explain' } ? ExplainResult : ActivationGrid;

/** Runs one task in a fresh evaluation worker thread; a failure becomes a `conflict` ApiError with the worker's message. */
export async function runEvalTask<T extends EvalTask>(libraryDir: string, task: T, nativeBinding?: string): Promise<ResultOf<T>> {
  const data: EvalWorkerData = { libraryDir, task, ...(nativeBinding ? { nativeBinding } : {}) };
  const worker = spawnWorker(siblingModule(import.meta.url, 'evaluate-worker'), { workerData: data });
  const reply = await new Promise<EvalWorkerReply>((resolve) => {
    worker.once('message', resolve);
    worker.once('error', (err) => resolve({ ok: false, message: `The evaluation worker crashed: ${err.message}` }));
    worker.once('exit', () => resolve({ ok: false, message: 'The evaluation worker exited early.' }));
  });
  await worker.terminate();
  if (!reply.ok) {
    throw new ApiError('conflict', reply.message);
  }
  return reply.result as ResultOf<T>;
}
