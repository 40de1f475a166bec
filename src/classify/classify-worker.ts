// Worker-thread entry of classification: owns the tfjs engine and a warm model, so inference never runs on
// the host's main thread. Requests run one at a time, in arrival order; cancel acts between batches.
import { parentPort } from 'node:worker_threads';
import type { BackendName } from '../api/app.js';
import { activateBackend, chooseBackend } from '../backends/index.js';
import { explainOne, exportRun, measureCost } from './worker-tasks.js';
import { loadClassifier, locationVersion, type ModelLocation } from './load.js';
import type { Classifier } from './pipeline.js';
import { classifyFiles } from './pipeline.js';
import type { FromClassifyWorker, JobRequest, ToClassifyWorker } from './worker-messages.js';

const port = parentPort!;
const send = (m: FromClassifyWorker): void => port.postMessage(m);
const cancelled = new Set<string>();
let backend: Promise<BackendName> | null = null;
let warm: { key: string; classifier: Classifier } | null = null;
let queue: Promise<void> = Promise.resolve();

/** The best backend here, activated once. */
function ready(): Promise<BackendName> {
  backend ??= chooseBackend('auto').then((choice) => activateBackend(choice.name));
  return backend;
}

/** The classifier at a location, reusing the warm one while its weights are unchanged. */
async function classifierAt(location: ModelLocation): Promise<Classifier> {
  const key = locationVersion(location);
  if (warm?.key !== key) {
    warm?.classifier.model.dispose();
    warm = null;
    warm = { key, classifier: await loadClassifier(location) };
  }
  return warm.classifier;
}

async function runJob(m: JobRequest): Promise<void> {
  try {
    if (cancelled.has(m.jobId)) {
      send({ type: 'finished', jobId: m.jobId, timing: { totalMs: 0, decodeMs: 0, predictMs: 0, msPerImage: 0, views: 0 }, cancelled: true });
      return;
    }
    const name = await ready();
    const classifier = await classifierAt(m.location);
    send({ type: 'started', jobId: m.jobId, classes: classifier.spec.classes, backend: name });
    const timing = await classifyFiles(
      classifier,
      m.files,
      { topK: m.topK, tenCrop: m.tenCrop, shouldStop: () => cancelled.has(m.jobId) },
      (report) => send({ type: 'batch', jobId: m.jobId, items: report.items, errors: report.errors }),
    );
    send({ type: 'finished', jobId: m.jobId, timing, cancelled: cancelled.has(m.jobId) });
  } catch (err) {
    send({ type: 'failed', jobId: m.jobId, message: err instanceof Error ? err.message : String(err) });
  } finally {
    cancelled.delete(m.jobId);
  }
}

async function handle(m: ToClassifyWorker): Promise<void> {
  switch (m.type) {
    case 'job':
      return runJob(m);
    case 'cost':
    case 'export':
    case 'explain': {
      try {
        const name = await ready();
        const result =
          m.type === 'cost'
            ? await measureCost(await classifierAt(m.location), name)
            : m.type === 'export'
              ? await exportRun(m.location, m.outDir, m.sample, name)
              : await explainOne(await classifierAt(m.location), m);
        send({ type: 'reply', requestId: m.requestId, ok: true, result });
      } catch (err) {
        send({ type: 'reply', requestId: m.requestId, ok: false, message: err instanceof Error ? err.message : String(err) });
      }
      return;
    }
    case 'cancel':
      return;
  }
}

port.on('message', (m: ToClassifyWorker) => {
  if (m.type === 'cancel') {
    cancelled.add(m.jobId);
    return;
  }
  queue = queue.then(() => handle(m));
});
