// `classify.exportOnnx` on the host side: picks the parity sample, has the classify worker write the file and
// run both sides, and publishes the file under its name only when ONNX Runtime agrees with the app.
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import type { ExportParity } from '../api/classify.js';
import { ApiError } from '../api/errors.js';
import type { ModelLocation } from '../classify/load.js';
import { compareParity, paritySample } from '../classify/parity.js';
import { siblingModule, spawnWorker } from '../images/spawn-worker.js';
import type { OnnxExportReply } from './onnx-export.js';
import type { OnnxExportOutcome, OnnxExportTask } from './onnx-export-worker.js';

/** What the parity check names as the other side. (ONNX Runtime itself loads only in the classify worker, when asked.) */
export const ONNX_PARITY_BACKEND = 'onnxruntime-node (cpu)';

/** Largest |Δprob| an ONNX export may show and still be published (ONNX Runtime and tfjs agree to ~1e-7). */
export const ONNX_MAX_PROB_DIFF = 1e-5;

/** Why an ONNX export's parity refuses the file (in words, with the figures), or null when it agrees or nothing could be compared. */
export function onnxParityProblem(parity: ExportParity, runId: number): string | null {
  if (parity.top1Agreement === null || (parity.top1Agreement === 1 && parity.maxProbDiff! <= ONNX_MAX_PROB_DIFF)) {
    return null;
  }
  return (
    `ONNX Runtime does not agree with ConvNet Studio on run ${runId}'s model (top-1 agreement ${(100 * parity.top1Agreement).toFixed(2)}% ` +
    `on ${parity.images} ${parity.split} images, max |Δprob| ${parity.maxProbDiff!.toExponential(2)}, allowed ${ONNX_MAX_PROB_DIFF}); no file was written. Please report this.`
  );
}

const lastFiles = new WeakMap<object, Map<number, string>>();

/** The ONNX file this studio last exported run `runId` to (for a browser to download), or null. */
export function lastOnnxFile(library: object, runId: number): string | null {
  return lastFiles.get(library)?.get(runId) ?? null;
}

/** What an ONNX export answers. */
export interface OnnxExportResult {
  file: string;
  bytes: number;
  opset: number;
  parity: ExportParity;
}

/**
 * Exports run `runId` as `outFile` (which must not exist) and checks it with ONNX Runtime on held-out images.
 * The file is written under a temporary name and renamed only when top-1 agreement is 100 % and the largest
 * probability difference is within {@link ONNX_MAX_PROB_DIFF}; otherwise it is removed and the figures are the error.
 */
export async function exportOnnxFile(library: { db: Database }, location: ModelLocation, runId: number, outFile: string): Promise<OnnxExportResult> {
  const { db } = library;
  const file = path.resolve(outFile);
  if (fs.existsSync(file)) {
    throw new ApiError('conflict', `${file} already exists; choose a new file name for the ONNX model.`);
  }
  if (!fs.existsSync(path.dirname(file)) || !fs.statSync(path.dirname(file)).isDirectory()) {
    throw new ApiError('not_found', `The folder ${path.dirname(file)} does not exist; create it or choose another place for the ONNX model.`);
  }
  const partial = `${file}.partial-${process.pid}`;
  const sample = paritySample(db, runId);
  try {
    const reply = await exportInWorker({ location, outFile: partial, sample: sample.paths });
    const parity = compareParity(reply.sample, reply.onnx, sample.split, reply.onnx.length ? ONNX_PARITY_BACKEND : null);
    const problem = onnxParityProblem(parity, runId);
    if (problem) {
      throw new ApiError('internal', problem);
    }
    fs.renameSync(partial, file);
    const files = lastFiles.get(library) ?? new Map<number, string>();
    lastFiles.set(library, files.set(runId, file));
    return { file, bytes: reply.bytes, opset: reply.opset, parity };
  } finally {
    fs.rmSync(partial, { force: true });
  }
}

/** Runs one export in its own worker thread (see onnx-export-worker.ts); a failure is a conflict with the worker's reason. */
function exportInWorker(task: OnnxExportTask): Promise<OnnxExportReply> {
  return new Promise((resolve, reject) => {
    const worker = spawnWorker(siblingModule(import.meta.url, 'onnx-export-worker'), { workerData: task });
    let answered = false;
    worker.once('message', (outcome: OnnxExportOutcome) => {
      answered = true;
      if (outcome.ok) {
        resolve(outcome.reply);
      } else {
        reject(new ApiError('conflict', outcome.message));
      }
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (!answered) {
        reject(new Error(`the ONNX export worker ended (exit code ${code}) before answering`));
      }
    });
  });
}
