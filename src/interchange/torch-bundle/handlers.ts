import path from 'node:path';
import type { Handlers } from '../../api/dispatch.js';
import type { BundleImport } from '../../api/torch-bundle.js';
import { runEvalTask } from '../../evaluate/eval-task.js';
import type { StudioContext } from '../../library/studio-context.js';
import { getRunSummary, logRun } from '../../runs/run-store.js';
import { exportTorchBundle } from './export-bundle.js';
import { importTorchResult } from './import-result.js';

/** The methods this domain answers. */
export type TorchBundleMethod = 'runs.exportTorch' | 'runs.importBundle';

/** `runs.exportTorch` and `runs.importBundle`: runs out to PyTorch DDP and back. */
export function torchBundleHandlers(ctx: StudioContext, options: { nativeBinding?: string | undefined } = {}): Pick<Handlers, TorchBundleMethod> {
  const { library } = ctx;
  return {
    'runs.exportTorch': async ({ runId, outDir, withImages }) => exportTorchBundle(library, runId, path.resolve(outDir), { withImages }),
    'runs.importBundle': async ({ dir }) => {
      const { runId, bundle } = importTorchResult(library, dir);
      // Predictions as a run trained here stores them (result galleries, test error, neighbours), in a worker.
      const splits = (library.db.prepare('SELECT DISTINCT split FROM run_images WHERE run_id = ?').all(runId) as Array<{ split: 'train' | 'val' | 'test' }>).map((r) => r.split);
      let evaluation: BundleImport['evaluation'] = null;
      const warnings: string[] = [];
      for (const split of (['val', 'test', 'train'] as const).filter((s) => splits.includes(s))) {
        try {
          const r = await runEvalTask(library.dir, { kind: 'predict', runId, split, tenCrop: false }, options.nativeBinding);
          if (split !== 'train' && evaluation === null) {
            evaluation = { split, images: r.evaluation.images, top1Error: r.evaluation.top1Error, top5Error: r.evaluation.top5Error, loss: r.evaluation.loss };
          }
        } catch (err) {
          const message = `Could not store the ${split} predictions: ${err instanceof Error ? err.message : String(err)}`;
          warnings.push(message);
          logRun(library.db, runId, 'warn', message);
        }
      }
      if (evaluation && bundle.valTop1Error !== null && evaluation.split === 'val') {
        logRun(
          library.db,
          runId,
          'info',
          `Validation top-1 error: ${(100 * evaluation.top1Error).toFixed(2)}% evaluated here, ${(100 * bundle.valTop1Error).toFixed(2)}% reported by the bundle (its images decoded by Pillow, ours by libvips).`,
        );
      }
      return { run: getRunSummary(library.db, runId), bundle, evaluation, warnings };
    },
  };
}
