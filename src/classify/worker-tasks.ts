import path from 'node:path';
import { explainWithClassifier } from './explain-files.js';
import { loadCheckpoint, modelFromCheckpoint } from '../runs/checkpoint.js';
import { writeModelExport } from './export-folder.js';
import type { ModelLocation } from './load.js';
import { specFromCheckpoint } from './spec.js';
import { classifyFiles, classifyViews, predictProbabilities, type Classifier } from './pipeline.js';
import type { CostReply, ExplainReply, ExplainRequest, ExportReply } from './worker-messages.js';

/**
 * Writes the export folder of a run's latest checkpoint and classifies the parity sample with the app's own
 * pipeline, keeping every probability. Weights and predictions come from one read of the checkpoint, so an
 * epoch finishing meanwhile cannot make them differ.
 */
export async function exportRun(location: ModelLocation, outDir: string, sample: string[], backend: string): Promise<ExportReply> {
  if (location.kind !== 'run') {
    throw new Error('Only a run can be exported; an imported model folder already is an export.');
  }
  const checkpoint = loadCheckpoint(location.runDir);
  if (!checkpoint) {
    throw new Error('This run has no checkpoint yet: it has not finished an epoch.');
  }
  const classifier: Classifier = { model: await modelFromCheckpoint(checkpoint), spec: specFromCheckpoint(checkpoint.meta) };
  try {
    const files = writeModelExport(outDir, checkpoint.artifacts, classifier.spec);
    const reply: ExportReply = { files, spec: classifier.spec, backend, sample: [] };
    await classifyFiles(classifier, sample, { topK: 1, tenCrop: false }, (report) => {
      report.items.forEach((item, i) => reply.sample.push({ path: item.path, probabilities: Array.from(report.probabilities[i]!) }));
      report.errors.forEach((e) => reply.sample.push({ path: e.path, error: e.reason }));
    });
    return reply;
  } finally {
    classifier.model.dispose();
  }
}

/** Median network time per image over a few batches of random input, with the centre view and with ten views. */
export async function measureCost(classifier: Classifier, backend: string, images = 4, repeats = 3): Promise<CostReply> {
  const perImage = async (tenCrop: boolean): Promise<number> => {
    const views = classifyViews(classifier.spec, tenCrop).length;
    const n = classifier.spec.inputSize;
    const x = Float32Array.from({ length: images * views * n * n * 3 }, (_, i) => ((i * 7919) % 255) - 127);
    await predictProbabilities(classifier, x, images, views); // warm-up: kernels, shapes, allocations
    const times: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      await predictProbabilities(classifier, x, images, views);
      times.push((performance.now() - t0) / images);
    }
    return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  };
  return { centerMsPerImage: await perImage(false), tenCropMsPerImage: await perImage(true), backend, batchSize: images };
}

/** Grad-CAM of one file with the (warm) classifier a job used; the model stays loaded. */
export async function explainOne(classifier: Classifier, m: ExplainRequest): Promise<ExplainReply> {
  const who = m.location.kind === 'run' ? `Run ${path.basename(m.location.runDir)}` : `The model in ${m.location.dir}`;
  const { layer, convLayers, items } = await explainWithClassifier(classifier, who, { files: [m.file], outputs: [m.out], layer: m.layer, classLabel: m.classLabel, maxSide: m.maxSide });
  return { layer, convLayers, item: items[0]! };
}
