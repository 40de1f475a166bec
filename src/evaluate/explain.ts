import type { Database } from 'better-sqlite3';
import { explainWithClassifier, type ExplainedFile, type ExplainTargets } from '../classify/explain-files.js';
import { loadClassifier } from '../classify/load.js';
import { runRow } from '../runs/run-store.js';
import { runDirOf } from '../runs/run-folder.js';
import { activateRunBackend, requireCheckpoint } from './run-eval.js';
import { configOfRun } from '../runs/run-config.js';

/** Which images to explain with which run (see ExplainTargets). */
export interface ExplainRequest extends ExplainTargets {
  runId: number;
}

/** What `explainFiles` answers. */
export interface ExplainResult {
  runId: number;
  layer: string;
  convLayers: string[];
  backend: string;
  items: ExplainedFile[];
}

/** Grad-CAM overlays of image files with a run's latest checkpoint, on the backend the run trained with (see explainWithClassifier). */
export async function explainFiles(db: Database, libraryDir: string, req: ExplainRequest): Promise<ExplainResult> {
  const config = configOfRun(runRow(db, req.runId));
  requireCheckpoint(libraryDir, req.runId);
  const backend = await activateRunBackend(config);
  const classifier = await loadClassifier({ kind: 'run', runDir: runDirOf(libraryDir, req.runId) });
  try {
    return { runId: req.runId, backend, ...(await explainWithClassifier(classifier, `Run ${req.runId}`, req)) };
  } finally {
    classifier.model.dispose();
  }
}
