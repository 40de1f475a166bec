// `classify.exportOnnx`: a run's network as one .onnx file, published only when ONNX Runtime agrees with the app
// (onnx-export-service.ts); the export runs in its own worker (onnx-export-worker.ts).
import type { Handlers } from '../api/dispatch.js';
import { runModelLocation } from '../classify/model-location.js';
import type { StudioContext } from '../library/studio-context.js';
import { exportOnnxFile } from './onnx-export-service.js';

export function onnxExportHandlers(ctx: Pick<StudioContext, 'library'>): Pick<Handlers, 'classify.exportOnnx'> {
  const { library } = ctx;
  return {
    'classify.exportOnnx': async ({ runId, outFile }) => exportOnnxFile(library, runModelLocation(library, runId), runId, outFile),
  };
}
