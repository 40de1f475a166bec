// Where a classifier's weights are — a run's checkpoint or a model folder — found without loading tfjs, so the
// host process can check a request before the classify (or ONNX export) worker loads the network.
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { ApiError } from '../api/errors.js';
import { checkpointDir } from '../runs/checkpoint.js';
import { runDirOf } from '../runs/run-folder.js';
import { runRow } from '../runs/run-store.js';

/** Where a classifier's weights are on disk: a run folder (its latest checkpoint) or an exported model folder. */
export type ModelLocation = { kind: 'run'; runDir: string } | { kind: 'folder'; dir: string };

/** Where run `runId`'s weights are; not found without the run, a conflict before its first checkpoint. */
export function runModelLocation(library: { db: Database; dir: string }, runId: number): ModelLocation {
  runRow(library.db, runId);
  const runDir = runDirOf(library.dir, runId);
  if (!fs.existsSync(path.join(checkpointDir(runDir), 'checkpoint.json'))) {
    throw new ApiError('conflict', `Run ${runId} has no checkpoint yet: it has not finished an epoch.`);
  }
  return { kind: 'run', runDir };
}
