// Worker-thread entry: the logits of a run's latest checkpoint on a few packed images (centre crop, the
// run's normalisation), so an export never runs the network on the host's main thread.
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { activateBackend, chooseBackend } from '../../backends/index.js';
import { centerView, writeViewFloat } from '../../images/augment.js';
import '../../model/index.js'; // registers the custom layers (LRN, grouped conv) a checkpoint names
import type { InputNormalization } from '../../runs/config.js';
import { loadCheckpoint, modelFromCheckpoint } from '../../runs/checkpoint.js';
import { logitsOf } from '../../train/loop.js';

/** What the worker is started with. */
export interface ReferenceTask {
  runDir: string;
  /** count × packSize × packSize × 3 uint8 RGB. */
  images: Uint8Array;
  count: number;
  packSize: number;
  inputSize: number;
  norm: InputNormalization;
}

/** What it answers: count × classes logits, the backend that computed them, or the error. */
export type ReferenceReply = { ok: true; logits: Float32Array; backend: string } | { ok: false; message: string };

async function referenceLogits(t: ReferenceTask): Promise<ReferenceReply> {
  const backend = await activateBackend((await chooseBackend('auto')).name);
  const checkpoint = loadCheckpoint(t.runDir);
  if (!checkpoint) {
    throw new Error('This run has no checkpoint yet: it has not finished an epoch.');
  }
  const model = await modelFromCheckpoint(checkpoint);
  try {
    const n = t.inputSize;
    const x = new Float32Array(t.count * n * n * 3);
    const view = centerView(t.packSize, t.packSize, n);
    for (let i = 0; i < t.count; i++) {
      writeViewFloat(t.images, i * t.packSize * t.packSize * 3, t.packSize, view, n, [0, 0, 0], t.norm, x, i * n * n * 3);
    }
    const input = tf.tensor4d(x, [t.count, n, n, 3]);
    const out = logitsOf(model)(input, false);
    const logits = (await out.data()) as Float32Array;
    tf.dispose([input, out]);
    return { ok: true, logits, backend };
  } finally {
    model.dispose();
  }
}

referenceLogits(workerData as ReferenceTask).then(
  (reply) => parentPort!.postMessage(reply),
  (err: unknown) => parentPort!.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) } satisfies ReferenceReply),
);
