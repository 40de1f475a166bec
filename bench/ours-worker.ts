// ConvNet Studio's side of a step comparison: a child process speaking bench/protocol.ts. Training
// goes through the product's own loop (trainLoop: logitsOf, softmax cross-entropy, PaperSgd), fed by
// a source that hands out one synthetic batch; inference is the classify engine's predictProbabilities.
import { resourceUsage } from 'node:process';
import readline from 'node:readline';
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../src/api/app.js';
import { activateBackend, probeBackend } from '../src/backends/index.js';
import { benchClassifier } from './inference.js';
import { predictProbabilities } from '../src/classify/pipeline.js';
import type { Batch, BatchSource } from '../src/images/batch-source.js';
import { buildModel, type ArchName } from '../src/model/index.js';
import { keyedWeights, trainLoop, type LoopPosition } from '../src/train/loop.js';
import { initialSchedule } from '../src/train/schedule.js';
import { PaperSgd } from '../src/train/sgd.js';
import type { Request, StepTask } from './protocol.js';

/** A BatchSource handing out the same batch `steps` times per epoch, timing from the first batch taken to the end. */
export class RepeatSource implements BatchSource {
  private left: number;
  startedAt = 0;
  endedAt = 0;

  constructor(
    private readonly batch: Batch,
    readonly batchesPerEpoch: number,
  ) {
    this.left = batchesPerEpoch;
  }

  async next(): Promise<Batch | null> {
    const t = performance.now();
    if (this.left === this.batchesPerEpoch) {
      this.startedAt = t;
    }
    if (this.left-- <= 0) {
      this.endedAt = t;
      return null;
    }
    return this.batch;
  }

  async close(): Promise<void> {}
}

/** One side's state after setup: something that runs `steps` steps and says how long they took. */
interface Stepper {
  time(steps: number): Promise<number>;
}

function syntheticBatch(task: StepTask): Batch {
  const { batch: n, inputSize: s } = task;
  const x = new Float32Array(n * s * s * 3);
  let seed = 12345;
  for (let i = 0; i < x.length; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    x[i] = seed / 2 ** 31 - 1;
  }
  const labels = Int32Array.from({ length: n }, (_, i) => i % task.numClasses);
  return { x, shape: [n, s, s, 3], labels, ids: Int32Array.from({ length: n }, (_, i) => i) };
}

function trainer(task: StepTask, model: tf.LayersModel, batch: Batch): Stepper {
  const sgd = new PaperSgd(keyedWeights(model), { momentum: task.momentum ?? 0.9, weightDecay: task.weightDecay ?? 5e-4 });
  const lr = task.lr ?? 0.01;
  const start = (): LoopPosition => ({ epoch: 0, batch: 0, lossSum: 0, images: 0, seconds: 0, schedule: initialSchedule({ lr }), best: { top1: null, top5: null } });
  return {
    async time(steps) {
      const source = new RepeatSource(batch, steps);
      await trainLoop({
        model,
        sgd,
        config: { epochs: 1, lr, schedule: { kind: 'cosine', minLr: lr }, timeLimitMinutes: null },
        numClasses: task.numClasses,
        train: source,
        val: null,
        start: start(),
        hooks: { progress: () => undefined, epochEnd: async () => undefined, control: async () => 'continue', stopped: async () => undefined },
      });
      return (source.endedAt - source.startedAt) / 1000;
    },
  };
}

function predictor(task: StepTask, batch: Batch): { stepper: Stepper; model: tf.LayersModel } {
  // The classify engine's own path (and its bench's network): a tensor from the floats, predict, probabilities read back.
  const classifier = benchClassifier(task.arch as ArchName, task.inputSize, task.numClasses);
  const stepper: Stepper = {
    async time(steps) {
      const start = performance.now();
      for (let i = 0; i < steps; i++) {
        await predictProbabilities(classifier, batch.x, task.batch, 1);
      }
      return (performance.now() - start) / 1000;
    },
  };
  return { stepper, model: classifier.model };
}

/** Builds the network and the stepper for a task on its backend, and runs the warm-up steps. */
export async function setup(task: StepTask): Promise<{ stepper: Stepper; params: number; backend: string; threads: number | null; device: string | null }> {
  // wasm computes with the task's thread count (the peer's torch.set_num_threads is the same number).
  const threads = (task.backend ?? 'wasm') === 'wasm' ? (task.oursThreads ?? task.threads) : undefined;
  const backend = await activateBackend((task.backend ?? 'wasm') as BackendName, threads);
  const probe = await probeBackend(backend, threads);
  const batch = syntheticBatch(task);
  let model: tf.LayersModel;
  let stepper: Stepper;
  if (task.kind === 'train') {
    model = buildModel(task.arch as ArchName, { numClasses: task.numClasses, inputSize: task.inputSize });
    stepper = trainer(task, model, batch);
  } else {
    ({ model, stepper } = predictor(task, batch));
  }
  if (task.warmup > 0) {
    await stepper.time(task.warmup);
  }
  return { stepper, params: model.countParams(), backend, threads: probe.threads, device: probe.device };
}

async function main(): Promise<void> {
  let stepper: Stepper | null = null;
  const reply = (m: object): void => void process.stdout.write(JSON.stringify(m) + '\n');
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (!line.trim()) {
      continue;
    }
    const msg = JSON.parse(line) as Request;
    try {
      if (msg.op === 'setup') {
        const s = await setup(msg.task);
        stepper = s.stepper;
        reply({ ok: true, params: s.params, backend: s.backend, threads: s.threads, device: s.device, tfjs: tf.version.tfjs });
      } else if (msg.op === 'time') {
        if (!stepper) {throw new Error('time before setup');}
        reply({ ok: true, seconds: await stepper.time(msg.steps) });
      } else if (msg.op === 'rss') {
        // resourceUsage().maxRSS is in KiB; the high-water mark of this process, which did only this task.
        reply({ ok: true, maxRssBytes: resourceUsage().maxRSS * 1024, rssBytes: process.memoryUsage().rss });
      } else {
        break;
      }
    } catch (err) {
      reply({ ok: false, error: err instanceof Error ? `${err.message}` : String(err) });
    }
  }
  process.exit(0);
}

if (process.argv[1]?.endsWith('ours-worker.js') || process.argv[1]?.endsWith('ours-worker.ts')) {
  await main();
}
